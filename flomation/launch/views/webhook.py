"""`/launch/webhook/<id>`: the webhook ingress. Lean on purpose: one query finds the trigger, one
transaction stores the execution and the invocation, and nothing else touches the database."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from flomation.launch.config import WebhookSettings
from flomation.launch.ingress import (
    Refused,
    idempotency_key,
    now_iso,
    read_body,
    refuse_if_paused,
    take_rate_token,
    trigger_for_request,
    trigger_settings,
)
from flomation.launch.models import Trigger, TriggerKind
from flomation.launch.responses import sandboxed, web_response_build
from flomation.launch.services.gateway import Outcome, Replayed, execution_gateway
from flomation.launch.services.secrets import trigger_secrets
from flomation.launch.views.chat import replay_answer, slack_challenge
from flomation.launch.webhooks import authenticate, cors_origin_allowed, request_headers
from flomation.lib.text import holds_nul
from flomation.metrics import observe
from flomation.middleware import stateless

logger = logging.getLogger(__name__)

WEBHOOK_KINDS = frozenset({TriggerKind.WEBHOOK, TriggerKind.WEB, TriggerKind.OTHER})


@stateless
@csrf_exempt
def webhook(request: HttpRequest, public_id: str) -> HttpResponse:
    started = time.monotonic()
    response = _webhook(request, public_id)
    observe("webhook_seconds", time.monotonic() - started, status=str(response.status_code))
    return response


def _webhook(request: HttpRequest, public_id: str) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    settings: WebhookSettings | None = None
    try:
        trigger = trigger_for_request(public_id, WEBHOOK_KINDS)
        settings = trigger_settings(trigger)
        if request.method == "OPTIONS":
            response = _preflight(request, origin, settings)
        else:
            response = _handle(request, trigger, settings, origin)
    except Refused as refused:
        response = refused.response()
    if settings is not None and origin and settings.cors_origins and cors_origin_allowed(origin, settings):
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def _preflight(request: HttpRequest, origin: str, settings: WebhookSettings) -> HttpResponse:
    if not (origin and settings.cors_origins and cors_origin_allowed(origin, settings)):
        raise Refused(403, "this origin may not call this webhook")
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = ", ".join(sorted(settings.methods))
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        response["Access-Control-Allow-Headers"] = requested
    response["Access-Control-Max-Age"] = "600"
    return response


def _handle(request: HttpRequest, trigger: Trigger, settings: WebhookSettings, origin: str) -> HttpResponse:
    if request.method not in settings.methods:
        raise Refused(
            405,
            f"this webhook accepts {', '.join(sorted(settings.methods))}",
            {"Allow": ", ".join(sorted(settings.methods))},
        )
    refuse_if_paused(trigger)
    if origin and settings.cors_origins and not cors_origin_allowed(origin, settings):
        raise Refused(403, "this origin may not call this webhook")
    take_rate_token(trigger, settings)
    body = read_body(request, settings.max_body_bytes)
    auth = authenticate(request, body, settings, trigger_secrets(trigger))
    if not auth.ok:
        raise Refused(401, auth.error, {"WWW-Authenticate": auth.challenge} if auth.challenge else None)
    if settings.preset is not None and settings.preset.name == "slack":
        challenge = slack_challenge(body)
        if challenge is not None:
            return challenge
    key = idempotency_key(request)
    content_type = request.content_type or ""
    parsed_body = _parse_body(body, content_type)
    if holds_nul(parsed_body):
        logger.warning(
            "webhook %s (organisation %s) refused: a NUL character in the body", trigger.public_id,
            trigger.organisation_id,
        )  # fmt: skip
        raise Refused(400, "the body contains a NUL character (\\u0000), which cannot be stored; remove it")
    trigger_data = {
        "__node_id": trigger.node_id,
        "body": parsed_body,
        "method": request.method,
        "content_type": content_type,
        "triggered_at": now_iso(),
        "headers": request_headers(request, settings),
        "query": {name: request.GET.get(name) for name in request.GET},
    }
    if settings.preset is not None:
        trigger_data.update(event=auth.event, delivery_id=auth.delivery_id or "", preset=settings.preset.name)
    gateway = execution_gateway()
    try:
        accepted = gateway.accept(
            trigger=trigger,
            trigger_data=trigger_data,
            method=request.method or "",
            idempotency_key=key,
            delivery_id=auth.delivery_id,
            signature_hash=auth.signature_hash,
            inline=True,
        )
    except Replayed:
        if settings.preset is not None:
            return replay_answer(trigger, auth.delivery_id, auth.signature_hash)
        logger.warning(
            "Webhook refused as a replay: organisation %s, trigger %s, node %s (delivery id or signature "
            "already accepted).",
            trigger.organisation_id,
            trigger.public_id,
            trigger.node_id,
        )
        raise Refused(409, "this delivery id was already accepted; a replayed request is refused") from None
    if settings.response_mode == "lastNode" and accepted.execution_id is not None:
        outcome = accepted.outcome  # it ran here, inline; else a runner runs it
        if outcome is None:
            outcome = gateway.wait(
                trigger=trigger, execution_id=accepted.execution_id, timeout=settings.timeout_seconds
            )
        return _answer(outcome, accepted.execution_id, trigger)
    return _accepted(accepted.execution_id, accepted.invocation_id)


def _parse_body(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            raise Refused(400, "the body is not valid JSON") from None
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    return text


def _accepted(execution_id: Any, invocation_id: Any = None) -> JsonResponse:
    body = {"status": "accepted", "execution_id": str(execution_id) if execution_id else None}
    body["executionId"] = body["execution_id"]
    if execution_id is None and invocation_id is not None:
        body["invocation_id"] = str(invocation_id)
    return JsonResponse(body, status=202)


def _answer(outcome: Outcome | None, execution_id: Any, trigger: Trigger) -> HttpResponse:
    """The flow's answer: what output/web_response set, else its outputs; 202 if it has not finished.
    Both are flow-authored content, sent sandboxed (flomation.launch.responses)."""
    if outcome is None or outcome.state == "suspended":
        return _accepted(execution_id)
    custom = outcome.outputs.get("__web_response__")
    if isinstance(custom, dict):
        return web_response_build(spec=custom, trigger=trigger)
    if outcome.state != "succeeded":
        return JsonResponse(
            {"status": outcome.state, "executionId": str(execution_id), "execution_id": str(execution_id),
             "error": "the workflow did not succeed; see the execution for details"},
            status=502,
        )  # fmt: skip
    data = {key: value for key, value in outcome.outputs.items() if not key.startswith("__")}
    return sandboxed(
        JsonResponse(
            {
                "status": "completed",
                "executionId": str(execution_id),
                "execution_id": str(execution_id),
                "data": data,
            }
        )
    )
