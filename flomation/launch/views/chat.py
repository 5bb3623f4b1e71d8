"""`/launch/slack/<id>`, `/launch/telegram/<id>`, `/launch/teams/<id>`: the chat triggers' ingress.

Each verifies its service's scheme before reading anything (Slack: the v0 signing-secret signature within
five minutes; Telegram: `X-Telegram-Bot-Api-Secret-Token`; Teams: `Authorization: HMAC <base64>` over the
body with the outgoing webhook's security token), then starts the flow once per event: the service's event
id is the delivery id, so a retried event answers 200 with the first execution and starts nothing.

Duplicates answer 200, not 409: Slack, Telegram, Teams (and the app-event senders behind the webhook
presets) treat any non-2xx as a failed delivery and retry it, and Slack and Shopify switch a subscription
off after repeated failures. The event was already accepted, so "done" is the true answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from flomation.launch.chat.approvals import approval_answer
from flomation.launch.chat.telegram import telegram_secret_token
from flomation.launch.config import as_bool, as_list
from flomation.launch.ingress import (
    Refused,
    now_iso,
    read_body,
    refuse_if_paused,
    take_rate_token,
    trigger_for_request,
    trigger_settings,
)
from flomation.launch.models import Trigger, TriggerKind
from flomation.launch.selectors import invocation_execution_id
from flomation.launch.services.gateway import Replayed, execution_gateway
from flomation.launch.services.secrets import trigger_secrets
from flomation.launch.signatures import slack_verify
from flomation.lib.text import holds_nul
from flomation.middleware import stateless


def slack_challenge(body: bytes) -> JsonResponse | None:
    """Slack's URL verification (sent, signed, when an author saves the Request URL): echo the challenge."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None
    if isinstance(payload, dict) and payload.get("type") == "url_verification":
        return JsonResponse({"challenge": str(payload.get("challenge") or "")})
    return None


def replay_answer(trigger: Trigger, delivery_id: str | None, signature_hash: str | None) -> JsonResponse:
    """200 for an event this trigger already accepted, naming the execution it started (see the module)."""
    earlier = invocation_execution_id(trigger=trigger, delivery_id=delivery_id, signature_hash=signature_hash)
    execution_id = str(earlier) if earlier else None
    return JsonResponse({"status": "duplicate", "execution_id": execution_id, "executionId": execution_id})


def _start(
    trigger: Trigger, data: dict[str, Any], delivery_id: str | None, signature_hash: str | None = None
) -> JsonResponse:
    if holds_nul(data):
        raise Refused(400, "the event contains a NUL character (\\u0000), which cannot be stored")
    trigger_data = {"__node_id": trigger.node_id, "triggered_at": now_iso(), **data}
    try:
        accepted = execution_gateway().accept(
            trigger=trigger,
            trigger_data=trigger_data,
            method="POST",
            delivery_id=delivery_id,
            signature_hash=signature_hash,
        )
    except Replayed:
        return replay_answer(trigger, delivery_id, signature_hash)
    execution_id = str(accepted.execution_id) if accepted.execution_id else None
    return JsonResponse({"status": "accepted", "execution_id": execution_id, "executionId": execution_id})


def _receive(request: HttpRequest, public_id: str, kind: str) -> tuple[Trigger, bytes, dict[str, Any]]:
    trigger = trigger_for_request(public_id, frozenset({kind}))
    if request.method != "POST":
        raise Refused(405, "this trigger accepts POST", {"Allow": "POST"})
    refuse_if_paused(trigger)
    settings = trigger_settings(trigger)
    take_rate_token(trigger, settings)
    return trigger, read_body(request, settings.max_body_bytes), trigger_secrets(trigger)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise Refused(400, "the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise Refused(400, "the body is not a JSON object")
    return payload


def _answered(result: str) -> JsonResponse:
    return JsonResponse({"status": result})


def _refusals(view: Any) -> Any:
    @stateless
    @csrf_exempt
    def wrapped(request: HttpRequest, public_id: str) -> HttpResponse:
        try:
            return view(request, public_id)
        except Refused as refused:
            return refused.response()

    wrapped.__name__ = view.__name__
    return wrapped


@_refusals
def slack(request: HttpRequest, public_id: str) -> HttpResponse:
    trigger, body, secrets = _receive(request, public_id, TriggerKind.SLACK)
    if not secrets.get("signing_secret"):
        raise Refused(401, "this Slack trigger has no signing secret configured")
    verified = slack_verify(request, body, str(secrets["signing_secret"]))
    if not verified.ok:
        raise Refused(401, verified.error)
    if (request.content_type or "") == "application/x-www-form-urlencoded":
        return _slack_interaction(trigger, body)
    challenge = slack_challenge(body)
    if challenge is not None:
        return challenge
    payload = _json_object(body)
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    wanted = as_list(trigger.config.get("events"))
    if wanted and event.get("type") not in wanted:
        return _answered("ignored")
    if as_bool(trigger.config.get("ignore_bots"), True) and (
        event.get("bot_id") or event.get("subtype") == "bot_message"
    ):
        return _answered("ignored")  # the flow's own replies must not start it again
    data = {
        "channel_type": "slack",
        "event_type": str(event.get("type") or payload.get("type") or ""),
        "event_id": str(payload.get("event_id") or ""),
        "team_id": str(payload.get("team_id") or ""),
        "text": str(event.get("text") or ""),
        "user": str(event.get("user") or ""),
        "channel": str(event.get("channel") or ""),
        "ts": str(event.get("ts") or ""),
        "thread_ts": str(event.get("thread_ts") or event.get("ts") or ""),
        "event": event,
    }
    return _start(trigger, data, verified.delivery_id, verified.signature_hash)


def _slack_interaction(trigger: Trigger, body: bytes) -> HttpResponse:
    """A button pressed on an approval question (Slack interactivity): resumes its execution once."""
    form = dict(parse_qsl(body.decode("utf-8", errors="replace")))
    try:
        payload = json.loads(form.get("payload") or "{}")
    except ValueError:
        raise Refused(400, "the interaction payload is not valid JSON") from None
    actions = payload.get("actions") if isinstance(payload, dict) else None
    if not actions or not isinstance(actions[0], dict):
        return _answered("ignored")
    token, _, index = str(actions[0].get("value") or "").partition(":")
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    who = str(user.get("username") or user.get("name") or user.get("id") or "")
    return _answered(approval_answer(trigger=trigger, token=token, index=index, answered_by=who))


@_refusals
def telegram(request: HttpRequest, public_id: str) -> HttpResponse:
    trigger, body, secrets = _receive(request, public_id, TriggerKind.TELEGRAM)
    expected = telegram_secret_token(trigger=trigger, secrets=secrets)
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused(401, "a valid X-Telegram-Bot-Api-Secret-Token header is required")
    update = _json_object(body)
    callback = update.get("callback_query")
    if isinstance(callback, dict) and str(callback.get("data") or "").startswith("hitl:"):
        _, token, index = (str(callback["data"]).split(":", 2) + ["", ""])[:3]
        sender = callback.get("from") if isinstance(callback.get("from"), dict) else {}
        who = str(sender.get("username") or sender.get("id") or "")
        result = approval_answer(trigger=trigger, token=token, index=index, answered_by=who)
        # Telegram lets a webhook's answer be a Bot API call: this stops the button's spinner.
        return JsonResponse(
            {"method": "answerCallbackQuery", "callback_query_id": str(callback.get("id") or ""),
             "text": "Answer recorded" if result == "resumed" else "This question was already answered"}
        )  # fmt: skip
    kind = next(
        (k for k in ("message", "edited_message", "channel_post", "callback_query") if k in update), ""
    )
    message = update.get(kind) if isinstance(update.get(kind), dict) else {}
    inner = (
        message.get("message")
        if kind == "callback_query" and isinstance(message.get("message"), dict)
        else message
    )
    chat = inner.get("chat") if isinstance(inner.get("chat"), dict) else {}
    data = {
        "channel_type": "telegram",
        "update_id": update.get("update_id"),
        "update_type": kind,
        "text": str(message.get("text") or message.get("data") or ""),
        "chat_id": chat.get("id"),
        "message_id": inner.get("message_id"),
        "from": message.get("from") if isinstance(message.get("from"), dict) else {},
        "message": message,
    }
    delivery = f"update:{update['update_id']}" if update.get("update_id") is not None else None
    return _start(trigger, data, delivery)


def teams_signature(security_token: str, body: bytes) -> str:
    """Teams outgoing webhooks: base64 HMAC-SHA256 of the body, keyed with the base64-decoded security token."""
    key = base64.b64decode(security_token)
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


@_refusals
def teams(request: HttpRequest, public_id: str) -> HttpResponse:
    trigger, body, secrets = _receive(request, public_id, TriggerKind.TEAMS)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    try:
        expected = teams_signature(str(secrets.get("security_token") or ""), body)
    except (binascii.Error, ValueError):
        raise Refused(401, "this Teams trigger's security token is not valid base64") from None
    if (
        not secrets.get("security_token")
        or scheme != "HMAC"
        or not hmac.compare_digest(given.strip().encode(), expected.encode())
    ):
        raise Refused(
            401, "a valid 'Authorization: HMAC <signature>' header is required", {"WWW-Authenticate": "HMAC"}
        )
    activity = _json_object(body)
    sender = activity.get("from") if isinstance(activity.get("from"), dict) else {}
    conversation = activity.get("conversation") if isinstance(activity.get("conversation"), dict) else {}
    data = {
        "channel_type": "teams",
        "text": str(activity.get("text") or ""),
        "from": sender,
        "user": str(sender.get("name") or ""),
        "conversation_id": str(conversation.get("id") or ""),
        "activity": activity,
    }
    started = _start(trigger, data, str(activity["id"])[:200] if activity.get("id") else None)
    # Teams shows the answer in the channel: the author's reply text, and the execution for reference.
    answer = json.loads(started.content)
    reply = str(trigger.config.get("reply") or "Received.")
    return JsonResponse({"type": "message", "text": reply, "execution_id": answer.get("execution_id")})
