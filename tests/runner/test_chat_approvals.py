"""Human approval in chat, end to end: a real runner runs a flow a chat trigger started, the approval's
question is posted to a loopback Slack or Telegram API (the exact request asserted), and the answer sent
back to launch as Slack interactivity or a Telegram callback query resumes the execution to its end."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from flomation.core.models import Execution, Organisation
from flomation.core.services.queues import queue_registration_code, queue_shared
from flomation.launch.loops import LaunchLoop
from flomation.launch.models import ApprovalPrompt
from tests.launch.chat_api import chat_api_server
from tests.launch.conftest import World
from tests.runner.conftest import wait_until
from tests.runner.flows import node

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SIGNING_SECRET = "slack-signing-secret-0123456789"
BOT_TOKEN = "123456:telegram-bot-token"
OPTIONS = [{"key": "Approve", "value": "yes"}, {"key": "Reject", "value": "no"}]


def approval_flow(trigger: dict[str, Any]) -> dict[str, Any]:
    def out(node_id: str, value: str) -> dict[str, Any]:
        return node(node_id, "output/set", 3, [{"name": "name", "type": "string", "value": "decision"},
                                               {"name": "value", "type": "string", "value": value}])  # fmt: skip

    ask = node("ask", "humanintheloop/await", 7, [
        {"name": "message", "type": "text", "value": "Ship ${t1.text}?"},
        {"name": "options", "type": "key_value_array", "value": OPTIONS},
    ])  # fmt: skip
    return {
        "nodes": [trigger, ask, out("yes", "approved by ${ask.answered_by}"), out("no", "rejected")],
        "edges": [
            {"id": "e1", "source": "t1", "target": "ask"},
            {"id": "e2", "source": "ask", "target": "yes", "sourceHandle": "option_yes"},
            {"id": "e3", "source": "ask", "target": "no", "sourceHandle": "option_no"},
        ],
    }


def deploy(trigger: dict[str, Any]) -> World:
    from flomation.core.models import Revision, Workflow

    world = World()
    Organisation.objects.filter(id=world.organisation.id).update(accept_shared_runners=True)
    revision = Revision.objects.create(workflow=world.workflow, number=1, flow=approval_flow(trigger))
    Workflow.objects.filter(id=world.workflow.id).update(latest_revision=1)
    world.deploy(revision=revision)
    return world


def suspended_and_asked(world: World, chat_api: Any) -> Execution:
    (execution,) = wait_until(lambda: world.executions(), timeout=10)
    wait_until(
        lambda: Execution.objects.get(id=execution.id).state not in ("pending", "claimed", "running"),
        timeout=60,
    )
    assert Execution.objects.get(id=execution.id).state == "suspended", Execution.objects.filter(
        id=execution.id
    ).values("state", "error", "queue_id")[0]
    loop = LaunchLoop(owner="test")
    wait_until(lambda: loop.handle_one() and chat_api.requests, timeout=10)
    return execution


def finished(execution: Execution) -> Execution:
    wait_until(lambda: Execution.objects.get(id=execution.id).state == "succeeded", timeout=60)
    return Execution.objects.get(id=execution.id)


@pytest.fixture
def chat_api() -> Any:
    with chat_api_server() as server:
        yield server


@pytest.fixture
def runner(start_runner, settings, live_server):
    settings.EGRESS_ALLOW = ["127.0.0.0/8"]
    settings.LAUNCH_URL = live_server.url
    return start_runner(queue_registration_code(queue=queue_shared()), name="chat")


def test_an_approval_asked_in_slack_is_answered_by_a_button_and_resumes_the_run(
    runner, chat_api, live_server
):
    trigger = node("t1", "trigger/slack", 1, [
        {"name": "signing_secret", "type": "secret", "value": SIGNING_SECRET},
        {"name": "bot_token", "type": "secret", "value": "xoxb-test-token"},
        {"name": "api_url", "type": "string", "value": chat_api.url},
    ])  # fmt: skip
    world = deploy(trigger)
    chat_api.answers["chat.postMessage"] = (
        200,
        {"ok": True, "channel": "C0DEPLOY", "ts": "1700000001.000200"},
    )
    url = f"{live_server.url}/launch/slack/{world.trigger().public_id}"
    event = {"type": "event_callback", "event_id": "Ev1", "event": {
        "type": "message", "channel": "C0DEPLOY", "user": "U1", "text": "v2.4", "ts": "1700000000.000100"}}  # fmt: skip
    assert slack_post(url, json.dumps(event).encode(), "application/json").status_code == 200

    execution = suspended_and_asked(world, chat_api)
    (call,) = chat_api.requests
    token = ApprovalPrompt.objects.get(execution_id=execution.id).token
    assert call["path"] == "/chat.postMessage"
    assert call["headers"]["authorization"] == "Bearer xoxb-test-token"
    assert call["headers"]["content-type"] == "application/json; charset=utf-8"
    assert call["json"] == {
        "channel": "C0DEPLOY",
        "thread_ts": "1700000000.000100",
        "text": "Ship v2.4?",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Ship v2.4?"}},
            {"type": "actions", "block_id": f"approval_{token}", "elements": [
                {"type": "button", "action_id": "approval_0", "text": {"type": "plain_text", "text": "Approve"},
                 "value": f"{token}:0"},
                {"type": "button", "action_id": "approval_1", "text": {"type": "plain_text", "text": "Reject"},
                 "value": f"{token}:1"},
            ]},
        ],
    }  # fmt: skip

    click = {"type": "block_actions", "user": {"id": "U2", "username": "grace"},
             "actions": [{"action_id": "approval_0", "block_id": f"approval_{token}", "value": f"{token}:0"}]}  # fmt: skip
    form = urlencode({"payload": json.dumps(click)}).encode()
    forged = slack_post(url, form, "application/x-www-form-urlencoded", secret="not-slack")
    assert forged.status_code == 401
    answer = slack_post(url, form, "application/x-www-form-urlencoded")
    assert answer.status_code == 200 and answer.json() == {"status": "resumed"}
    again = slack_post(url, form, "application/x-www-form-urlencoded")
    assert again.json() == {"status": "already_answered"}

    LaunchLoop(owner="test").handle_one()  # the question loses its buttons and shows the answer
    assert chat_api.requests[1]["path"] == "/chat.update"
    assert chat_api.requests[1]["json"] == {
        "channel": "C0DEPLOY",
        "ts": "1700000001.000200",
        "text": "Ship v2.4?",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Ship v2.4?"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Answered: Approve by grace"}]},
        ],
    }
    done = finished(execution)
    assert done.outputs == {"decision": "approved by grace"}
    assert len(world.executions()) == 1


def test_an_approval_asked_in_telegram_is_answered_by_a_callback_query_and_resumes_the_run(
    runner, chat_api, live_server
):
    trigger = node("t1", "trigger/telegram", 1, [
        {"name": "bot_token", "type": "secret", "value": BOT_TOKEN},
        {"name": "api_url", "type": "string", "value": chat_api.url},
    ])  # fmt: skip
    world = deploy(trigger)
    secret_token = chat_api.requests.pop()["json"]["secret_token"]  # setWebhook, on deploy
    chat_api.answers["sendMessage"] = (200, {"ok": True, "result": {"message_id": 77, "chat": {"id": 4242}}})
    url = f"{live_server.url}/launch/telegram/{world.trigger().public_id}"
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token}
    update = {"update_id": 1, "message": {"message_id": 7, "text": "v3", "chat": {"id": 4242, "type": "private"},
                                          "from": {"id": 99, "username": "ada"}}}  # fmt: skip
    assert requests.post(url, json=update, headers=headers, timeout=10).status_code == 200

    execution = suspended_and_asked(world, chat_api)
    (call,) = chat_api.requests
    token = ApprovalPrompt.objects.get(execution_id=execution.id).token
    assert call["path"] == f"/bot{BOT_TOKEN}/sendMessage"
    assert call["json"] == {
        "chat_id": "4242",
        "text": "Ship v3?",
        "reply_markup": {"inline_keyboard": [
            [{"text": "Approve", "callback_data": f"hitl:{token}:0"}],
            [{"text": "Reject", "callback_data": f"hitl:{token}:1"}],
        ]},
    }  # fmt: skip
    assert all(
        len(b["callback_data"].encode()) <= 64
        for row in call["json"]["reply_markup"]["inline_keyboard"]
        for b in row
    )

    press = {"update_id": 2, "callback_query": {"id": "cbq-1", "from": {"id": 99, "username": "ada"},
             "message": {"message_id": 8, "chat": {"id": 4242}}, "data": f"hitl:{token}:1"}}  # fmt: skip
    answer = requests.post(url, json=press, headers=headers, timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": "cbq-1",
        "text": "Answer recorded",
    }

    LaunchLoop(owner="test").handle_one()
    assert chat_api.requests[1]["path"] == f"/bot{BOT_TOKEN}/editMessageText"
    assert chat_api.requests[1]["json"] == {
        "chat_id": "4242",
        "message_id": 77,
        "text": "Ship v3?\n\nAnswered: Reject by ada",
    }
    done = finished(execution)
    assert done.outputs == {"decision": "rejected"}
    assert len(world.executions()) == 1


def slack_post(url: str, body: bytes, content_type: str, secret: str = SIGNING_SECRET) -> requests.Response:
    ts = int(time.time())
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature,
    }
    return requests.post(url, data=body, headers=headers, timeout=10)
