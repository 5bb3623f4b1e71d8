"""Human approval in chat: an execution started by a Slack or Telegram trigger that suspends on
`humanintheloop/await` gets its question posted in the same conversation with one button per option; the
button's answer resumes the execution once.

* `on_execution_suspended` (core's `execution_suspended` signal) stores an ApprovalPrompt, due at once;
* `approval_deliver_one` (the launch loop) posts one due prompt: Slack `chat.postMessage` with an actions
  block, Telegram `sendMessage` with an inline keyboard; a failure is retried with a growing delay. Once
  answered, the message is rewritten with the answer in place of its buttons (`chat.update`,
  `editMessageText`);
* `approval_answer` (the chat triggers' ingress: a Slack interactivity payload, a Telegram callback query)
  records the first answer and resumes the execution with `answered_option`, `answered_by` and `outcome`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from flomation.core.executions import execution_answer
from flomation.launch.chat.clients import ChatApiError, SlackClient, TelegramClient
from flomation.launch.config import as_bool
from flomation.launch.models import ApprovalPrompt, Trigger, TriggerKind
from flomation.launch.pollers import egress_policy_for
from flomation.launch.services.secrets import scrub, trigger_secrets

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CHAT_KINDS = (TriggerKind.SLACK, TriggerKind.TELEGRAM)


def on_execution_suspended(
    sender: Any = None,
    *,
    execution_id: Any,
    workflow_id: Any,
    environment_id: Any,
    trigger_data: dict[str, Any],
    suspend_info: dict[str, Any],
    **kwargs: Any,
) -> None:
    if suspend_info.get("suspend_reason") != "hitl":
        return
    trigger = Trigger.objects.filter(
        workflow_id=workflow_id,
        environment_id=environment_id,
        node_id=str(trigger_data.get("__node_id") or ""),
        kind__in=CHAT_KINDS,
        active=True,
    ).first()
    if trigger is None or not as_bool(trigger.config.get("approvals"), True):
        return
    approval_prompt_create(
        trigger=trigger, execution_id=execution_id, trigger_data=trigger_data, suspend_info=suspend_info
    )


def approval_prompt_create(
    *, trigger: Trigger, execution_id: Any, trigger_data: dict[str, Any], suspend_info: dict[str, Any]
) -> ApprovalPrompt | None:
    """Stores the question, due for delivery now; None when there is nowhere to ask it or it was stored
    before (an execution resumed without an answer suspends on the same node again: asked once)."""
    if trigger.kind == TriggerKind.SLACK:
        target = str(trigger.config.get("approval_channel") or trigger_data.get("channel") or "")
        thread = "" if trigger.config.get("approval_channel") else str(trigger_data.get("thread_ts") or "")
    else:
        target = str(trigger.config.get("approval_chat_id") or trigger_data.get("chat_id") or "")
        thread = ""
    options = [
        {"label": str(o.get("label") or o.get("value")), "value": str(o.get("value"))}
        for o in suspend_info.get("options") or []
        if isinstance(o, dict)
    ]
    if not target or not options:
        return None
    try:
        with transaction.atomic():
            return ApprovalPrompt.objects.create(
                trigger=trigger,
                execution_id=execution_id,
                node_id=str(suspend_info.get("suspend_node_id") or ""),
                channel=trigger.kind,
                target=target[:200],
                thread=thread[:64],
                message=str(suspend_info.get("message") or "Please choose an option."),
                options=options,
                next_try_at=timezone.now(),
            )
    except IntegrityError:
        return None


def slack_question(prompt: ApprovalPrompt) -> dict[str, Any]:
    """The chat.postMessage body: the question as text (notifications) and blocks with one button each."""
    buttons = [
        {
            "type": "button",
            "action_id": f"approval_{index}",
            "text": {"type": "plain_text", "text": option["label"][:75]},
            "value": f"{prompt.token}:{index}",
        }
        for index, option in enumerate(prompt.options)
    ]
    payload: dict[str, Any] = {
        "channel": prompt.target,
        "text": prompt.message,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": prompt.message[:3000]}},
            {"type": "actions", "block_id": f"approval_{prompt.token}", "elements": buttons[:25]},
        ],
    }
    if prompt.thread:
        payload["thread_ts"] = prompt.thread
    return payload


def telegram_question(prompt: ApprovalPrompt) -> dict[str, Any]:
    """The sendMessage body: the question with an inline keyboard (callback_data stays under 64 bytes)."""
    keyboard = [
        [{"text": option["label"], "callback_data": f"hitl:{prompt.token}:{index}"}]
        for index, option in enumerate(prompt.options)
    ]
    return {"chat_id": prompt.target, "text": prompt.message, "reply_markup": {"inline_keyboard": keyboard}}


def approval_deliver_one(*, now: datetime | None = None) -> bool:
    """Posts one due question, else rewrites one answered question's message with its answer; returns True
    if it found one (whether the service took it or not)."""
    now = now or timezone.now()
    return _ask_one(now) or _close_one(now)


def _due(field: str, now: datetime) -> ApprovalPrompt | None:
    """The prompt whose `field` time came first, locked; one another loop holds is skipped."""
    return (
        ApprovalPrompt.objects.select_for_update(skip_locked=True)
        .select_related("trigger")
        .filter(**{f"{field}__lte": now})
        .order_by(field)
        .first()
    )


def _ask_one(now: datetime) -> bool:
    with transaction.atomic():
        prompt = _due("next_try_at", now)
        if prompt is None:
            return False
        secrets = trigger_secrets(prompt.trigger)
        error = ""
        try:
            prompt.target, prompt.message_ref = _send(prompt, secrets)
        except ChatApiError as failure:
            error = scrub(str(failure), secrets)
        prompt.attempts += 1
        if error:
            logger.warning(
                "approval question for execution %s (trigger %s) not sent: %s", prompt.execution_id,
                prompt.trigger.public_id, error,
            )  # fmt: skip
            retry = prompt.attempts < MAX_ATTEMPTS
            delay = timedelta(seconds=min(3600, 10 * 2**prompt.attempts))
            prompt.next_try_at, prompt.send_error = (now + delay if retry else None), error
        else:
            prompt.next_try_at, prompt.sent_at, prompt.send_error = None, now, ""
        prompt.save(
            update_fields=["attempts", "next_try_at", "sent_at", "send_error", "target", "message_ref"]
        )
    return True


def _clients(prompt: ApprovalPrompt, secrets: dict[str, Any]) -> tuple[SlackClient, TelegramClient]:
    token = str(secrets.get("bot_token") or "")
    if not token:
        raise ChatApiError("the trigger has no bot token to ask the question with")
    policy = egress_policy_for(prompt.trigger)
    base_url = str(prompt.trigger.config.get("api_url") or "")
    return (
        SlackClient(token=token, policy=policy, base_url=base_url),
        TelegramClient(token=token, policy=policy, base_url=base_url),
    )


def _send(prompt: ApprovalPrompt, secrets: dict[str, Any]) -> tuple[str, str]:
    """Posts the question; returns where it went (Slack answers with the channel's id) and its message id."""
    slack, telegram = _clients(prompt, secrets)
    if prompt.channel == TriggerKind.SLACK:
        posted = slack.post_message(slack_question(prompt))
        return str(posted.get("channel") or prompt.target), str(posted.get("ts") or "")
    sent = telegram.send_message(telegram_question(prompt))
    result = sent.get("result") if isinstance(sent.get("result"), dict) else {}
    return prompt.target, str(result.get("message_id") or "")


def answered_text(prompt: ApprovalPrompt) -> str:
    label = next((o["label"] for o in prompt.options if o["value"] == prompt.answered_option), "")
    who = f" by {prompt.answered_by}" if prompt.answered_by else ""
    return f"Answered: {label or prompt.answered_option}{who}"


def _close_one(now: datetime) -> bool:
    """Rewrites one answered question's message: the answer in place of the buttons, so nobody presses
    them again. Cosmetic, so tried once: a failure is logged and not retried."""
    with transaction.atomic():
        prompt = _due("update_at", now)
        if prompt is None:
            return False
        ApprovalPrompt.objects.filter(id=prompt.id).update(update_at=None)
    secrets = trigger_secrets(prompt.trigger)
    try:
        slack, telegram = _clients(prompt, secrets)
        if prompt.channel == TriggerKind.SLACK:
            slack.call("chat.update", {
                "channel": prompt.target, "ts": prompt.message_ref, "text": prompt.message,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": prompt.message[:3000]}},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": answered_text(prompt)}]},
                ],
            })  # fmt: skip
        else:
            telegram.call("editMessageText", {
                "chat_id": prompt.target, "message_id": int(prompt.message_ref),
                "text": f"{prompt.message}\n\n{answered_text(prompt)}",
            })  # fmt: skip
    except ChatApiError as failure:
        logger.warning(
            "approval message of execution %s (trigger %s) not updated: %s", prompt.execution_id,
            prompt.trigger.public_id, scrub(str(failure), secrets),
        )  # fmt: skip
    return True


def approval_answer(*, trigger: Trigger, token: str, index: str, answered_by: str) -> str:
    """Records a button's answer and resumes the execution. Returns "resumed", "already_answered" (a second
    press, or an execution no longer waiting) or "unknown" (not a question of this trigger)."""
    prompt = ApprovalPrompt.objects.filter(token=token, trigger=trigger).first() if token else None
    if prompt is None or not index.isdigit() or int(index) >= len(prompt.options):
        return "unknown"
    option = prompt.options[int(index)]["value"]
    with transaction.atomic():
        now = timezone.now()
        claimed = ApprovalPrompt.objects.filter(id=prompt.id, answered_at__isnull=True).update(
            answered_at=now,
            answered_by=answered_by[:200],
            answered_option=option[:200],
            update_at=Case(When(~Q(message_ref=""), then=Value(now)), default=None),
        )
        if not claimed:
            return "already_answered"
        resumed = execution_answer(
            execution_id=prompt.execution_id,
            resume_data={
                "answered_option": option,
                "answered_by": answered_by,
                "outcome": "answered",
                "channel": prompt.channel,
            },
        )
    return "resumed" if resumed else "already_answered"
