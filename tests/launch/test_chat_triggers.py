"""The chat triggers over real HTTP: Slack's Events API, a Telegram bot's webhook (set on deploy against a
loopback Bot API) and a Teams outgoing webhook, with signatures computed from each service's documentation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests

from flomation.launch.models import Trigger
from tests.launch.conftest import trigger_node

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
TEAMS_KEY = base64.b64encode(b"teams-outgoing-webhook-key-32byt").decode()


def slack_post(url: str, body: bytes, *, secret: str = SIGNING_SECRET, ts: int | None = None, **headers: str):
    ts = int(time.time()) if ts is None else ts
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return requests.post(
        url,
        data=body,
        headers={
            "Content-Type": headers.pop("content_type", "application/json"),
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature,
            **headers,
        },
        timeout=10,
    )


def message_event(event_id: str = "Ev08MFMKH6", **event: str) -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "event_id": event_id,
            "event": {"type": "message", "channel": "C024BE91L", "user": "U2147483697", "text": "deploy please",
                      "ts": "1355517523.000005", **event},
        }
    ).encode()  # fmt: skip


@pytest.fixture
def slack_url(live_world, live_server) -> str:
    live_world.deploy(
        trigger_node("trigger/slack", {"signing_secret": SIGNING_SECRET, "bot_token": "xoxb-1"})
    )
    return f"{live_server.url}/launch/slack/{live_world.trigger().public_id}"


def test_slack_url_verification_is_answered_with_its_challenge(slack_url, live_world):
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gm", "type": "url_verification"}
    )
    answer = slack_post(slack_url, body.encode())
    assert answer.status_code == 200 and answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gm"}
    assert live_world.executions() == []


def test_a_slack_message_starts_the_flow_once_even_when_slack_retries_it(slack_url, live_world):
    first = slack_post(slack_url, message_event())
    assert first.status_code == 200, first.text
    (execution,) = live_world.executions()
    assert first.json()["execution_id"] == str(execution.id)
    data = execution.trigger_data
    assert (data["text"], data["channel"], data["user"], data["event_type"]) == (
        "deploy please", "C024BE91L", "U2147483697", "message",
    )  # fmt: skip
    assert data["channel_type"] == "slack" and data["thread_ts"] == "1355517523.000005"

    retry = slack_post(
        slack_url, message_event(), **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status_code == 200 and retry.json()["status"] == "duplicate"
    assert retry.json()["execution_id"] == str(execution.id)
    assert len(live_world.executions()) == 1


def test_a_slack_request_with_a_bad_or_stale_signature_is_refused(slack_url, live_world):
    bad = slack_post(slack_url, message_event("Ev1"), secret="another-apps-secret")
    assert bad.status_code == 401 and "X-Slack-Signature" in bad.json()["error"]
    stale = slack_post(slack_url, message_event("Ev2"), ts=int(time.time()) - 6 * 60)
    assert stale.status_code == 401 and "stale" in stale.json()["error"]
    assert SIGNING_SECRET not in bad.text + stale.text
    assert live_world.executions() == []


def test_a_slack_bot_message_does_not_start_the_flow(slack_url, live_world):
    answer = slack_post(slack_url, message_event("Ev3", bot_id="B01", subtype="bot_message"))
    assert answer.status_code == 200 and answer.json() == {"status": "ignored"}
    assert live_world.executions() == []


@pytest.fixture
def telegram(live_world, live_server, chat_api, settings, local_servers_allowed):
    settings.LAUNCH_URL = live_server.url
    live_world.deploy(trigger_node("trigger/telegram", {"bot_token": BOT_TOKEN, "api_url": chat_api.url}))
    return live_world.trigger()


def test_deploying_a_telegram_trigger_sets_the_bots_webhook_to_it(telegram, chat_api, live_server):
    (call,) = chat_api.requests
    assert call["path"] == f"/bot{BOT_TOKEN}/setWebhook"
    assert call["headers"]["content-type"] == "application/json"
    secret_token = call["json"]["secret_token"]
    assert call["json"] == {
        "url": f"{live_server.url}/launch/telegram/{telegram.public_id}",
        "secret_token": secret_token,
        "allowed_updates": ["message", "edited_message", "callback_query"],
    }
    assert len(secret_token) == 64 and BOT_TOKEN not in secret_token
    assert Trigger.objects.get(id=telegram.id).last_error == ""


def test_a_refused_set_webhook_is_shown_on_the_trigger_without_the_token(live_world, live_server, chat_api, settings,
                                                                          local_servers_allowed):  # fmt: skip
    settings.LAUNCH_URL = live_server.url
    chat_api.answers["setWebhook"] = (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    live_world.deploy(trigger_node("trigger/telegram", {"bot_token": BOT_TOKEN, "api_url": chat_api.url}))
    error = live_world.trigger().last_error
    assert error == "Telegram setWebhook failed: Unauthorized"


def test_a_telegram_update_with_the_secret_token_starts_the_flow_once(
    telegram, chat_api, live_server, live_world
):
    url = f"{live_server.url}/launch/telegram/{telegram.public_id}"
    secret_token = chat_api.requests[0]["json"]["secret_token"]
    update = {"update_id": 10000, "message": {"message_id": 1365, "date": 1441645532, "text": "/start",
              "chat": {"id": 1111111, "type": "private"}, "from": {"id": 1111111, "username": "ada"}}}  # fmt: skip
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token}

    first = requests.post(url, json=update, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    (execution,) = live_world.executions()
    data = execution.trigger_data
    assert (data["text"], data["chat_id"], data["update_type"], data["from"]["username"]) == (
        "/start", 1111111, "message", "ada",
    )  # fmt: skip
    again = requests.post(url, json=update, headers=headers, timeout=10)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"

    wrong = requests.post(
        url,
        json={**update, "update_id": 10001},
        headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
        timeout=10,
    )
    missing = requests.post(url, json={**update, "update_id": 10002}, timeout=10)
    assert wrong.status_code == 401 and missing.status_code == 401
    assert len(live_world.executions()) == 1


@pytest.fixture
def teams_url(live_world, live_server) -> str:
    live_world.deploy(trigger_node("trigger/teams", {"security_token": TEAMS_KEY, "reply": "On it."}))
    return f"{live_server.url}/launch/teams/{live_world.trigger().public_id}"


def teams_post(url: str, activity: dict, key: str = TEAMS_KEY) -> requests.Response:
    body = json.dumps(activity).encode()
    signature = base64.b64encode(hmac.new(base64.b64decode(key), body, hashlib.sha256).digest()).decode()
    return requests.post(
        url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"HMAC {signature}"},
        timeout=10,
    )


def test_a_teams_outgoing_webhook_call_is_verified_answered_and_started_once(teams_url, live_world):
    activity = {"type": "message", "id": "1485983408511", "text": "<at>Flo</at> build it",
                "from": {"id": "29:1", "name": "Ada Lovelace"}, "conversation": {"id": "19:abc@thread.skype"}}  # fmt: skip
    first = teams_post(teams_url, activity)
    assert first.status_code == 200, first.text
    (execution,) = live_world.executions()
    assert first.json() == {"type": "message", "text": "On it.", "execution_id": str(execution.id)}
    assert (execution.trigger_data["user"], execution.trigger_data["conversation_id"]) == (
        "Ada Lovelace", "19:abc@thread.skype",
    )  # fmt: skip
    assert teams_post(teams_url, activity).status_code == 200
    other_key = base64.b64encode(b"not-the-teams-key-of-this-hook!!").decode()
    bad = teams_post(teams_url, {**activity, "id": "2"}, key=other_key)
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"] == "HMAC"
    assert len(live_world.executions()) == 1


def test_set_webhook_goes_through_the_egress_policy_which_refuses_a_loopback_api_by_default(
    live_world, live_server, chat_api, settings
):
    settings.LAUNCH_URL = live_server.url
    live_world.deploy(trigger_node("trigger/telegram", {"bot_token": BOT_TOKEN, "api_url": chat_api.url}))
    error = live_world.trigger().last_error
    assert error.startswith("Telegram setWebhook failed: egress refused") and "loopback" in error
    assert BOT_TOKEN not in error and chat_api.requests == []
