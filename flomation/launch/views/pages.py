"""Public pages: `/launch/form/<id>`, `/launch/qr/<id>`, `/launch/scan/<id>` and `/launch/image/<id>`.

The form is CSRF-exempt (it is public: anyone may submit it) and protected instead by a signed, expiring
form token whose nonce is the submission's idempotency key (a double submit starts one run), a honeypot
field, the trigger's rate limit and body cap. JSON posts need no token: a browser cannot send them cross-site
without a CORS preflight, which launch does not grant to forms.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from typing import Any
from urllib.parse import urlsplit

import segno
from django.conf import settings as django_settings
from django.core import signing
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from flomation.launch.config import FormField, first, form_fields
from flomation.launch.ingress import (
    Refused,
    idempotency_key,
    now_iso,
    read_body,
    refuse_if_paused,
    take_rate_token,
    trigger_for_request,
    trigger_settings,
    visitor,
)
from flomation.launch.models import Trigger, TriggerKind
from flomation.launch.services.gateway import execution_gateway

FORM_TOKEN_MAX_AGE = 24 * 3600
HONEYPOT = "website"
_FORM = frozenset({TriggerKind.FORM})
_SCAN = frozenset({TriggerKind.QR})
_PIXEL = frozenset({TriggerKind.IMAGE})
GIF_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def public_url(name: str, public_id: str) -> str:
    return django_settings.LAUNCH_URL.rstrip("/") + reverse(name, args=[public_id])


def _form_token(public_id: str) -> str:
    return signing.TimestampSigner(salt="launch.form").sign(f"{public_id}:{secrets.token_urlsafe(12)}")


def _form_nonce(token: str, public_id: str) -> str | None:
    try:
        value = signing.TimestampSigner(salt="launch.form").unsign(token, max_age=FORM_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    owner, _, nonce = value.partition(":")
    return nonce if owner == public_id else None


def _render_form(
    request: HttpRequest, trigger: Trigger, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> HttpResponse:
    config = trigger.config
    context = {
        "title": first(config, "title", "form_title", default=trigger.workflow.name),
        "description": first(config, "description", default=""),
        "submit_label": first(config, "submit_label", default="Send"),
        "fields": [
            (field, values.get(field.name, ""), errors.get(field.name, "")) for field in form_fields(config)
        ],
        "token": _form_token(trigger.public_id),
        "honeypot": HONEYPOT,
        "form_error": errors.get("__all__", ""),
    }
    return render(request, "launch/form.html", context, status=status)


@csrf_exempt
def form(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        trigger = trigger_for_request(public_id, _FORM)
        settings = trigger_settings(trigger)
        if request.method == "GET":
            return _render_form(request, trigger, {}, {})
        if request.method != "POST":
            raise Refused(405, "a form accepts GET and POST", {"Allow": "GET, POST"})
        refuse_if_paused(trigger)
        take_rate_token(trigger, settings)
        body = read_body(request, settings.max_body_bytes)
        is_json = request.content_type == "application/json"
        if is_json:
            try:
                values = json.loads(body or b"{}")
            except ValueError:
                raise Refused(400, "the body is not valid JSON") from None
            if not isinstance(values, dict):
                raise Refused(400, "post a JSON object of field values")
            key = idempotency_key(request)
        else:
            values = {name: value for name, value in _form_values(request, body).items()}
            if values.get(HONEYPOT):
                return _thanks(request, trigger)  # a bot filled the hidden field: pretend, start nothing
            nonce = _form_nonce(str(values.get("_token", "")), trigger.public_id)
            if nonce is None:
                return _render_form(
                    request, trigger, values, {"__all__": "This form has expired; please send it again."}, 400
                )
            key = f"form:{nonce}"
        cleaned, errors = _clean(form_fields(trigger.config), values)
        if errors:
            if is_json:
                return JsonResponse({"error": "some fields are not valid", "fields": errors}, status=400)
            return _render_form(request, trigger, values, errors, 400)
        accepted = execution_gateway().accept(
            trigger=trigger,
            trigger_data={"__node_id": trigger.node_id, **cleaned, "fields": cleaned, "submitted_at": now_iso(),
                          "user_agent": request.headers.get("User-Agent", "")},
            method="POST",
            idempotency_key=key,
        )  # fmt: skip
    except Refused as refused:
        return refused.response()
    if is_json:
        return JsonResponse({"status": "accepted", "execution_id": str(accepted.execution_id)}, status=202)
    return _thanks(request, trigger)


def _form_values(request: HttpRequest, body: bytes) -> dict[str, Any]:
    from django.http import QueryDict

    if request.content_type == "application/x-www-form-urlencoded":
        data = QueryDict(body, encoding=request.encoding)
        return {key: (data.getlist(key) if len(data.getlist(key)) > 1 else data.get(key)) for key in data}
    raise Refused(415, "post the form as application/x-www-form-urlencoded or application/json")


def _clean(fields: list[FormField], values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        value = values.get(field.name)
        if field.type == "checkbox":
            value = value not in (None, "", False, "off", "false")
        elif isinstance(value, str):
            value = value.strip()
        if field.required and value in (None, "", False, []):
            errors[field.name] = f"{field.label} is required."
            continue
        if value in (None, ""):
            cleaned[field.name] = ""
            continue
        if field.type == "email":
            try:
                validate_email(str(value))
            except Exception:
                errors[field.name] = f"{field.label} must be an email address."
        elif field.type == "number":
            try:
                value = float(value) if "." in str(value) else int(value)
            except (TypeError, ValueError):
                errors[field.name] = f"{field.label} must be a number."
        elif field.type == "select" and field.options and str(value) not in field.options:
            errors[field.name] = f"{field.label} must be one of {', '.join(field.options)}."
        cleaned[field.name] = value
    return cleaned, errors


def _thanks(request: HttpRequest, trigger: Trigger) -> HttpResponse:
    redirect = _safe_redirect(first(trigger.config, "redirect_url", "redirect", default=""))
    if redirect:
        return HttpResponseRedirect(redirect, status=303)
    message = first(
        trigger.config, "thank_you_message", "message", default="Thank you. Your answer was sent."
    )
    return render(request, "launch/thanks.html", {"title": "Thank you", "message": message})


def _safe_redirect(url: Any) -> str:
    url = str(url or "").strip()
    return url if urlsplit(url).scheme in {"http", "https"} and urlsplit(url).netloc else ""


def qr(request: HttpRequest, public_id: str, fmt: str = "png") -> HttpResponse:
    """A QR code of the trigger's scan URL (a QR trigger) or its form URL (a form trigger)."""
    try:
        trigger = trigger_for_request(public_id, _SCAN | _FORM)
    except Refused as refused:
        return refused.response()
    target = public_url("launch-form" if trigger.kind == TriggerKind.FORM else "launch-scan", public_id)
    fmt = (request.GET.get("format") or fmt).lower()
    if fmt not in {"png", "svg"}:
        return Refused(400, "choose format png or svg").response()
    buffer = io.BytesIO()
    code = segno.make(target, error="m")
    scale = max(
        1, min(40, int(request.GET.get("scale", "8")) if request.GET.get("scale", "8").isdigit() else 8)
    )
    code.save(buffer, kind=fmt, scale=scale, border=2)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml" if fmt == "svg" else "image/png")
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Scan-URL"] = target
    return response


def scan(request: HttpRequest, public_id: str) -> HttpResponse:
    """What a scanned QR code opens: fires the flow with the visitor's metadata, then shows a page."""
    try:
        trigger = trigger_for_request(public_id, _SCAN)
        refuse_if_paused(trigger)
        take_rate_token(trigger, trigger_settings(trigger))
        execution_gateway().accept(
            trigger=trigger, trigger_data={"__node_id": trigger.node_id, **visitor(request)}, method="GET"
        )
    except Refused as refused:
        message = "This code is not active right now." if refused.status in (410, 503) else refused.message
        if refused.status == 404:
            message = "This code does not lead anywhere."
        return render(
            request, "launch/scan.html", {"title": "Not available", "message": message}, status=refused.status
        )
    redirect = _safe_redirect(first(trigger.config, "redirect_url", "redirect", default=""))
    if redirect:
        return HttpResponseRedirect(redirect, status=302)
    message = first(trigger.config, "message", "thank_you_message", default="Thanks for scanning.")
    return render(
        request,
        "launch/scan.html",
        {"title": first(trigger.config, "title", default="Thanks"), "message": message},
    )


def image(request: HttpRequest, public_id: str, fmt: str = "gif") -> HttpResponse:
    """A 1×1 tracking pixel that fires the flow with the request's metadata. Paused or rate-limited
    triggers still answer the pixel (a broken image helps nobody), but start nothing."""
    try:
        trigger = trigger_for_request(public_id, _PIXEL)
    except Refused as refused:
        return refused.response()
    try:
        refuse_if_paused(trigger)
        take_rate_token(trigger, trigger_settings(trigger))
        execution_gateway().accept(
            trigger=trigger, trigger_data={"__node_id": trigger.node_id, **visitor(request)}, method="GET"
        )
    except Refused:
        pass
    response = HttpResponse(PNG_PIXEL if fmt == "png" else GIF_PIXEL, content_type=f"image/{fmt}")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0"
    return response
