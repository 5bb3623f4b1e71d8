"""Approval questions in chat, one step at a time: which suspensions ask one, how a refused post is kept and
tried again later (against a loopback Slack API), and which answers count."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from flomation.launch.chat.approvals import approval_answer, approval_deliver_one, on_execution_suspended
from flomation.launch.models import ApprovalPrompt
from tests.launch.conftest import trigger_node

OPTIONS = [{"label": "Approve", "value": "yes"}, {"label": "Reject", "value": "no"}]


def suspend(world, *, reason: str = "hitl", node_id: str = "t1", channel: str = "C1") -> uuid.UUID:  # noqa: ANN001
    execution_id = uuid.uuid4()
    on_execution_suspended(
        execution_id=execution_id,
        workflow_id=world.workflow.id,
        environment_id=world.environment.id,
        trigger_data={"__node_id": node_id, "channel": channel, "thread_ts": "1.2"},
        suspend_info={
            "suspend_reason": reason,
            "suspend_node_id": "ask",
            "message": "Ship?",
            "options": OPTIONS,
        },
    )
    return execution_id


@pytest.fixture
def slack_world(world, chat_api, local_servers_allowed):  # noqa: ANN001
    world.deploy(
        trigger_node(
            "trigger/slack", {"signing_secret": "s", "bot_token": "xoxb-secret-1", "api_url": chat_api.url}
        )
    )
    return world


def test_a_refused_question_keeps_slacks_error_and_is_tried_again_later(slack_world, chat_api):
    chat_api.answers["chat.postMessage"] = (200, {"ok": False, "error": "channel_not_found"})
    execution_id = suspend(slack_world)
    now = timezone.now()

    assert approval_deliver_one(now=now) is True
    prompt = ApprovalPrompt.objects.get(execution_id=execution_id)
    assert prompt.send_error == "Slack chat.postMessage failed: channel_not_found"
    assert prompt.attempts == 1 and prompt.sent_at is None and prompt.next_try_at > now
    assert approval_deliver_one(now=now) is False  # not due again yet

    chat_api.answers.pop("chat.postMessage")
    assert approval_deliver_one(now=now + timedelta(minutes=1)) is True
    prompt.refresh_from_db()
    assert (prompt.send_error, prompt.next_try_at, prompt.attempts) == ("", None, 2) and prompt.sent_at
    assert [call["json"]["channel"] for call in chat_api.requests] == ["C1", "C1"]


def test_an_execution_suspended_twice_on_the_same_approval_is_asked_once(slack_world):
    execution_id = suspend(slack_world)
    on_execution_suspended(
        execution_id=execution_id,
        workflow_id=slack_world.workflow.id,
        environment_id=slack_world.environment.id,
        trigger_data={"__node_id": "t1", "channel": "C1"},
        suspend_info={
            "suspend_reason": "hitl",
            "suspend_node_id": "ask",
            "message": "Ship?",
            "options": OPTIONS,
        },
    )
    assert ApprovalPrompt.objects.filter(execution_id=execution_id).count() == 1


def test_only_an_approval_in_a_run_a_chat_trigger_started_asks_a_question(world, slack_world):
    suspend(slack_world, reason="wait")
    suspend(slack_world, node_id="not-a-trigger")
    assert not ApprovalPrompt.objects.exists()


def test_a_slack_trigger_with_approvals_off_asks_nothing(world, chat_api, local_servers_allowed):
    world.deploy(trigger_node("trigger/slack", {"signing_secret": "s", "bot_token": "b", "approvals": False}))
    suspend(world)
    assert not ApprovalPrompt.objects.exists()


def test_an_answer_names_a_question_of_this_trigger_and_one_of_its_options(slack_world):
    suspend(slack_world)
    prompt = ApprovalPrompt.objects.get()
    other = trigger_node("trigger/slack", {"signing_secret": "s"}, node_id="t2")
    slack_world.deploy(trigger_node("trigger/slack", {"signing_secret": "s"}), other)
    stranger = slack_world.trigger("t2")
    assert approval_answer(trigger=stranger, token=prompt.token, index="0", answered_by="eve") == "unknown"
    assert (
        approval_answer(trigger=prompt.trigger, token=prompt.token, index="7", answered_by="eve") == "unknown"
    )
    assert approval_answer(trigger=prompt.trigger, token="", index="0", answered_by="eve") == "unknown"
    # The execution is not suspended (there is no such execution): recorded, but nothing resumed.
    assert (
        approval_answer(trigger=prompt.trigger, token=prompt.token, index="1", answered_by="ada")
        == "already_answered"
    )
    prompt.refresh_from_db()
    assert (prompt.answered_by, prompt.answered_option) == ("ada", "no")
