"""What the public ingress views share: finding the trigger, refusing with the right status, request data."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, JsonResponse

from flomation.core.executions.create import ExecutionRefused, execution_queue
from flomation.launch.config import WebhookSettings, webhook_settings
from flomation.launch.models import Trigger
from flomation.launch.ratelimit import buckets, retry_after_header

# A trigger's settings are parsed once per version of its row, not on every request.
_settings_cache: dict[tuple[str, str], WebhookSettings] = {}
_trigger_cache: dict[str, tuple[float, Trigger]] = {}


class Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        response = JsonResponse({"error": self.message}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def trigger_for_request(public_id: str, kinds: frozenset[str]) -> Trigger:
    """The trigger behind a public URL, with everything execution_create needs loaded in one query.

    Kept in this process for LAUNCH_TRIGGER_CACHE_SECONDS (default 1 s): the joined lookup is the costliest
    part of the ingress path. A change saved in this process drops the entry at once; another process sees
    it within the TTL (so a pause, or a new deployment, takes effect within a second everywhere).
    """
    now = time.monotonic()
    cached = _trigger_cache.get(public_id)
    if cached is not None and cached[0] > now:
        trigger = cached[1]
    else:
        trigger = (
            Trigger.objects.select_related("workflow__organisation", "environment", "deployment__revision")
            .defer("deployment__revision__flow", "workflow__description")
            .filter(public_id=public_id)
            .first()
        )
        ttl = float(getattr(django_settings, "LAUNCH_TRIGGER_CACHE_SECONDS", 1.0))
        if trigger is not None and ttl > 0:
            _resolve_queue(trigger)
            if len(_trigger_cache) > 10_000:
                _trigger_cache.clear()
            _trigger_cache[public_id] = (now + ttl, trigger)
    if trigger is None or trigger.kind not in kinds:
        raise Refused(404, "there is no trigger at this address")
    if not trigger.active:
        raise Refused(410, "this trigger was removed from its workflow's deployment")
    return trigger


def _resolve_queue(trigger: Trigger) -> None:
    """Pins core's queue choice on the cached workflow for the cache's lifetime.

    execution_create asks core's execution_queue on every call, which for a workflow without its own queue
    looks up the shared queue: a query per request that always has the same answer. Asking once per cache
    fill keeps the decision core's (including its refusal when shared runners are not accepted, which
    then surfaces on the request as before) without paying for it on every request.
    """
    if trigger.workflow.queue_id:
        return
    try:
        trigger.workflow.queue = execution_queue(workflow=trigger.workflow)
    except ExecutionRefused:
        return  # left unresolved: execution_create refuses with core's message


def forget_trigger(public_id: str) -> None:
    _trigger_cache.pop(public_id, None)


def trigger_settings(trigger: Trigger) -> WebhookSettings:
    key = (str(trigger.id), trigger.updated_at.isoformat())
    found = _settings_cache.get(key)
    if found is None:
        try:
            found = webhook_settings(trigger.config, kind=trigger.kind)
        except ValueError as error:
            raise Refused(503, f"this trigger is misconfigured: {error}") from None
        if len(_settings_cache) > 10_000:
            _settings_cache.clear()
        _settings_cache[key] = found
    return found


def refuse_if_paused(trigger: Trigger) -> None:
    if not trigger.enabled:
        raise Refused(503, "this trigger is paused; try again later", {"Retry-After": "60"})


def take_rate_token(trigger: Trigger, settings: WebhookSettings) -> None:
    wait = buckets.take(str(trigger.id), rate=settings.rate_per_second, burst=settings.burst)
    if wait:
        raise Refused(
            429, "too many requests for this trigger; slow down", {"Retry-After": retry_after_header(wait)}
        )


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The request body, refusing with 413 past `limit` bytes.

    Django reads only Content-Length bytes; a chunked body is read from the server's already de-chunked
    input when the server says it is (gunicorn sets wsgi.input_terminated), else refused with 411.
    """
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower() and not request.META.get(
        "CONTENT_LENGTH"
    ):
        if not request.META.get("wsgi.input_terminated"):
            raise Refused(411, "send the body with a Content-Length header")
        body = request.META["wsgi.input"].read(limit + 1)
    else:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise Refused(400, "the Content-Length header is not a number") from None
        if declared > limit:
            raise Refused(413, f"the body is larger than this trigger's limit of {limit} bytes")
        body = request.read(limit + 1)
    if len(body) > limit:
        raise Refused(413, f"the body is larger than this trigger's limit of {limit} bytes")
    return body


def idempotency_key(request: HttpRequest) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise Refused(400, "the Idempotency-Key header is longer than 200 characters")
    return key or None


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def visitor(request: HttpRequest) -> dict[str, Any]:
    """Who asked: for pixels and scans (the flow sees these, nothing secret is in them)."""
    return {
        "ip": request.META.get("REMOTE_ADDR", ""),
        "forwarded_for": request.headers.get("X-Forwarded-For", ""),
        "user_agent": request.headers.get("User-Agent", ""),
        "referer": request.headers.get("Referer", ""),
        "accept_language": request.headers.get("Accept-Language", ""),
        "query": {key: request.GET.get(key) for key in request.GET},
        "triggered_at": now_iso(),
    }
