"""`/launch/run/<id>`: a manual run of a deployed workflow with the trigger's run token."""

from __future__ import annotations

import hmac
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

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
from flomation.launch.models import TriggerKind
from flomation.launch.services.gateway import execution_gateway
from flomation.lib import crypto

_MANUAL = frozenset({TriggerKind.MANUAL})


@csrf_exempt
@require_POST
def run(request: HttpRequest, public_id: str) -> HttpResponse:
    """Body: an optional JSON object of inputs for the trigger node. Token: `Authorization: Bearer <token>`
    or `X-Run-Token`. Answers 202 with the execution id."""
    try:
        trigger = trigger_for_request(public_id, _MANUAL)
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else request.headers.get("X-Run-Token", "")
        if not (
            token
            and trigger.run_token_hash
            and hmac.compare_digest(crypto.sha256_hex(token), trigger.run_token_hash)
        ):
            raise Refused(401, "a valid run token is required", {"WWW-Authenticate": 'Bearer realm="launch"'})
        refuse_if_paused(trigger)
        settings = trigger_settings(trigger)
        take_rate_token(trigger, settings)
        body = read_body(request, settings.max_body_bytes)
        try:
            inputs = json.loads(body) if body.strip() else {}
        except ValueError:
            raise Refused(400, "the body is not valid JSON") from None
        if not isinstance(inputs, dict):
            raise Refused(400, "post a JSON object of inputs")
        accepted = execution_gateway().accept(
            trigger=trigger,
            trigger_data={"__node_id": trigger.node_id, **inputs, "start": now_iso()},
            method="POST",
            idempotency_key=idempotency_key(request),
        )
    except Refused as refused:
        return refused.response()
    return JsonResponse({"status": "accepted", "execution_id": str(accepted.execution_id)}, status=202)
