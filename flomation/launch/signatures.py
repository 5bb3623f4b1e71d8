"""App-event webhook presets: each sender's documented signature scheme, its event type and delivery id.

A preset verifies what its sender signs and names the retry key the sender keeps across retries:

| preset   | signature                                                    | event              | delivery id         |
|----------|--------------------------------------------------------------|--------------------|---------------------|
| github   | `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body)>`         | `X-GitHub-Event`   | `X-GitHub-Delivery` |
| gitlab   | `X-Gitlab-Token` equals the secret token                     | `X-Gitlab-Event`   | `X-Gitlab-Event-UUID` |
| stripe   | `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256("ts.body")>`   | body `type`        | body `id` (evt_…)   |
| shopify  | `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(body)>`          | `X-Shopify-Topic`  | `X-Shopify-Webhook-Id` |
| slack    | `X-Slack-Signature: v0=<hex HMAC-SHA256("v0:ts:body")>`      | body event `type`  | body `event_id`     |
| twilio   | `X-Twilio-Signature: <base64 HMAC-SHA1(url + sorted params)>` | status or message  | `I-Twilio-Idempotency-Token`, else the Sid |
| standard_webhooks | `webhook-signature` (flomation.launch.webhooks)     | body `type`        | `webhook-id`        |
| generic_hmac | a configured header, algorithm and encoding              | a configured header | a configured header |

Stripe, Slack and Standard Webhooks sign a timestamp: one outside the tolerance (five minutes by default) is
refused as stale. GitHub, GitLab, Shopify and Twilio sign no time; a replay of theirs is caught by the
delivery id and, since their delivery id is not signed, by the signature itself (`signature_hash`): the same
signed body under a new delivery id is a replay too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest

PRESETS = ("github", "gitlab", "stripe", "shopify", "slack", "twilio", "standard_webhooks", "generic_hmac")
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


@dataclass(frozen=True)
class PresetSettings:
    name: str
    tolerance_seconds: int = 300
    # generic_hmac
    header: str = "X-Signature"
    algorithm: str = "sha256"
    encoding: str = "hex"  # hex | base64
    prefix: str = ""  # e.g. "sha256=" before the digest
    timestamp_header: str = ""  # when set: the signed content is "{timestamp}.{body}" and must be fresh
    delivery_header: str = ""
    event_header: str = ""
    # twilio: the URL Twilio calls, when a proxy in front of launch changes what launch sees
    signature_url: str = ""


@dataclass(frozen=True)
class Verified:
    ok: bool
    error: str = ""
    delivery_id: str | None = None
    signature_hash: str | None = None
    event: str = ""


def _refused(error: str) -> Verified:
    return Verified(ok=False, error=error)


def _digest_hash(digest: bytes | str) -> str:
    raw = digest if isinstance(digest, bytes) else digest.encode()
    return hashlib.sha256(raw).hexdigest()


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def stale(timestamp: str, tolerance: int) -> str:
    """Why a signed Unix timestamp is not acceptable, or "" when it is within `tolerance` of now."""
    try:
        moment = int(timestamp)
    except ValueError:
        return "the signature timestamp is missing or not a Unix time in seconds"
    if abs(time.time() - moment) > tolerance:
        return (
            f"the signature timestamp is more than {tolerance} seconds from now; a stale request is refused"
        )
    return ""


def _github(request: HttpRequest, body: bytes, secret: str, _: PresetSettings) -> Verified:
    given = request.headers.get("X-Hub-Signature-256", "")
    if not given.startswith("sha256="):
        return _refused("the X-Hub-Signature-256 header is missing")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _refused("the X-Hub-Signature-256 signature does not match the body")
    return Verified(
        ok=True,
        delivery_id=request.headers.get("X-GitHub-Delivery") or None,
        signature_hash=_digest_hash(expected),
        event=request.headers.get("X-GitHub-Event", ""),
    )


def _gitlab(request: HttpRequest, body: bytes, secret: str, _: PresetSettings) -> Verified:
    given = request.headers.get("X-Gitlab-Token", "")
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        return _refused("a valid X-Gitlab-Token header is required")
    # The token is the same on every request, so the body is what a replay repeats.
    return Verified(
        ok=True,
        delivery_id=request.headers.get("X-Gitlab-Event-UUID") or None,
        signature_hash=_digest_hash(hashlib.sha256(body).digest()),
        event=request.headers.get("X-Gitlab-Event", ""),
    )


def stripe_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The v1 signature Stripe computes: hex HMAC-SHA256 of "{timestamp}.{body}" with the endpoint secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _stripe(request: HttpRequest, body: bytes, secret: str, settings: PresetSettings) -> Verified:
    header = request.headers.get("Stripe-Signature", "")
    pairs = [part.strip().partition("=") for part in header.split(",")]
    timestamp = next((value for key, _, value in pairs if key == "t"), "")
    signatures = [value for key, _, value in pairs if key == "v1"]
    if not signatures:
        return _refused("the Stripe-Signature header has no v1 signature")
    too_old = stale(timestamp, settings.tolerance_seconds)
    if too_old:
        return _refused(too_old)
    expected = stripe_signature(secret, int(timestamp), body).encode()
    if not any(hmac.compare_digest(given.encode(), expected) for given in signatures):
        return _refused("the Stripe-Signature does not match the body")
    event = _json(body)
    return Verified(
        ok=True,
        delivery_id=str(event.get("id") or "") or None,
        signature_hash=_digest_hash(expected),
        event=str(event.get("type") or ""),
    )


def _shopify(request: HttpRequest, body: bytes, secret: str, _: PresetSettings) -> Verified:
    given = request.headers.get("X-Shopify-Hmac-Sha256", "")
    if not given:
        return _refused("the X-Shopify-Hmac-Sha256 header is missing")
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    if not hmac.compare_digest(given.encode(), expected):
        return _refused("the X-Shopify-Hmac-Sha256 signature does not match the body")
    return Verified(
        ok=True,
        delivery_id=request.headers.get("X-Shopify-Webhook-Id") or None,
        signature_hash=_digest_hash(expected),
        event=request.headers.get("X-Shopify-Topic", ""),
    )


def slack_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """Slack's v0 request signature: "v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


def slack_verify(request: HttpRequest, body: bytes, secret: str, tolerance: int = 300) -> Verified:
    """A request from Slack (Events API, interactivity, slash commands) signed with the app's signing secret."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    given = request.headers.get("X-Slack-Signature", "")
    if not given:
        return _refused("the X-Slack-Signature header is missing")
    too_old = stale(timestamp, tolerance)
    if too_old:
        return _refused(too_old)
    expected = slack_signature(secret, timestamp, body)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _refused("the X-Slack-Signature does not match the body")
    payload = _json(body)
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    # Slash commands and interactions carry no event id: their signature (over a fresh timestamp) is
    # what a replay within the five minutes would repeat.
    return Verified(
        ok=True,
        signature_hash=_digest_hash(expected),
        delivery_id=str(payload.get("event_id") or "") or None,
        event=str(event.get("type") or payload.get("type") or ""),
    )


def _slack(request: HttpRequest, body: bytes, secret: str, settings: PresetSettings) -> Verified:
    return slack_verify(request, body, secret, settings.tolerance_seconds)


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by each POST parameter's name and
    value, sorted by name."""
    content = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), content.encode(), hashlib.sha1).digest()).decode()


def _twilio(request: HttpRequest, body: bytes, secret: str, settings: PresetSettings) -> Verified:
    given = request.headers.get("X-Twilio-Signature", "")
    if not given:
        return _refused("the X-Twilio-Signature header is missing")
    params = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    url = settings.signature_url or request.build_absolute_uri()
    expected = twilio_signature(secret, url, params)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _refused("the X-Twilio-Signature does not match the URL and parameters")
    sid = params.get("MessageSid") or params.get("CallSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or params.get("CallStatus") or ""
    kind = "call" if params.get("CallSid") else "message"
    delivery = request.headers.get("I-Twilio-Idempotency-Token") or (f"{sid}:{status}" if sid else "")
    return Verified(
        ok=True,
        delivery_id=delivery or None,
        signature_hash=_digest_hash(expected),
        event=f"{kind}.{status.lower()}" if status else kind,
    )


def _standard(request: HttpRequest, body: bytes, secret: str, settings: PresetSettings) -> Verified:
    from flomation.launch.webhooks import standard_webhooks

    result = standard_webhooks(request, body, secret, settings.tolerance_seconds)
    if not result.ok:
        return _refused(result.error)
    return Verified(ok=True, delivery_id=result.delivery_id, event=str(_json(body).get("type") or ""))


def _generic(request: HttpRequest, body: bytes, secret: str, settings: PresetSettings) -> Verified:
    given = request.headers.get(settings.header, "")
    if not given.startswith(settings.prefix) or not given[len(settings.prefix) :]:
        return _refused(f"the {settings.header} header is missing")
    content = body
    if settings.timestamp_header:
        timestamp = request.headers.get(settings.timestamp_header, "")
        too_old = stale(timestamp, settings.tolerance_seconds)
        if too_old:
            return _refused(too_old)
        content = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), content, ALGORITHMS[settings.algorithm]).digest()
    expected = base64.b64encode(digest).decode() if settings.encoding == "base64" else digest.hex()
    signature = given[len(settings.prefix) :]
    if settings.encoding == "hex":
        signature = signature.lower()
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return _refused(f"the {settings.header} signature does not match the body")
    delivery = request.headers.get(settings.delivery_header, "") if settings.delivery_header else ""
    return Verified(
        ok=True,
        delivery_id=delivery[:200] or None,
        signature_hash=_digest_hash(expected),
        event=request.headers.get(settings.event_header, "") if settings.event_header else "",
    )


VERIFIERS: dict[str, Callable[[HttpRequest, bytes, str, PresetSettings], Verified]] = {
    "github": _github,
    "gitlab": _gitlab,
    "stripe": _stripe,
    "shopify": _shopify,
    "slack": _slack,
    "twilio": _twilio,
    "standard_webhooks": _standard,
    "generic_hmac": _generic,
}


def preset_verify(request: HttpRequest, body: bytes, secret: str, settings: PresetSettings) -> Verified:
    """Checks a request against its preset's scheme. Returns Verified(ok=False, error=...) on any mismatch;
    the error names the header that failed, never the secret or the expected value."""
    if not secret:
        return _refused(f"this {settings.name} webhook has no signing secret configured")
    return VERIFIERS[settings.name](request, body, secret, settings)
