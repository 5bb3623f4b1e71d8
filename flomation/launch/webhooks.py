"""Checks a webhook request against its trigger's settings: authentication, signatures, CORS.

HMAC-SHA256 signatures are accepted in two shapes:
* Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over
  `{id}.{timestamp}.{body}`; a secret written `whsec_<base64>` is base64-decoded, as the spec says.
* Flomation's: `X-Flomation-Timestamp`, `X-Flomation-Signature: sha256=<hex>` over `{timestamp}.{body}`,
  with `X-Flomation-Delivery` as the delivery id (the signature itself when absent).
Both refuse a timestamp more than five minutes from now and a delivery id the trigger already accepted.
Flomation's format does not sign the delivery id, so a sender could be impersonated by replaying a signed
request under a new `X-Flomation-Delivery`: such a request is also refused when its signature was accepted
before (`signature_hash`, the SHA-256 of the signature, is unique per trigger, like the delivery id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from flomation.launch.config import WebhookSettings
from flomation.launch.signatures import preset_verify

SIGNATURE_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    error: str = ""
    delivery_id: str | None = None
    # SHA-256 of a Flomation-format signature: the replay key that the unsigned delivery id cannot be.
    signature_hash: str | None = None
    challenge: str = ""  # WWW-Authenticate value for a 401
    event: str = ""  # an app-event preset's event type (X-GitHub-Event, Stripe's type, ...)


def authenticate(
    request: HttpRequest, body: bytes, settings: WebhookSettings, secrets: dict[str, Any]
) -> AuthResult:
    mode = settings.auth
    if settings.preset is not None:
        secret = str(
            secrets.get("hmac_secret") or secrets.get("signing_secret") or secrets.get("secret") or ""
        )
        verified = preset_verify(request, body, secret, settings.preset)
        return AuthResult(
            ok=verified.ok,
            error=verified.error,
            delivery_id=verified.delivery_id[:200] if verified.delivery_id else None,
            signature_hash=verified.signature_hash,
            event=verified.event[:200],
        )
    if mode == "none":
        return AuthResult(ok=True)
    if mode == "api_key":
        expected = str(secrets.get("api_key") or secrets.get("token") or secrets.get("secret") or "")
        given = request.headers.get(settings.api_key_header, "")
        if expected and given and hmac.compare_digest(given.encode(), expected.encode()):
            return AuthResult(ok=True)
        return AuthResult(
            ok=False, error=f"a valid API key is required in the {settings.api_key_header} header"
        )
    if mode == "bearer":
        expected = str(secrets.get("bearer_token") or secrets.get("token") or secrets.get("secret") or "")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if (
            expected
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), expected.encode())
        ):
            return AuthResult(ok=True)
        return AuthResult(
            ok=False, error="a valid bearer token is required", challenge='Bearer realm="launch"'
        )
    secret = str(secrets.get("hmac_secret") or secrets.get("signing_secret") or secrets.get("secret") or "")
    if not secret:
        return AuthResult(
            ok=False, error="this webhook requires a signature but has no signing secret configured"
        )
    if "webhook-signature" in request.headers:
        return standard_webhooks(request, body, secret)
    return _flomation_signature(request, body, secret)


def _fresh(timestamp: str, tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> str:
    try:
        moment = int(timestamp)
    except ValueError:
        return "the signature timestamp is missing or not a Unix time in seconds"
    if abs(time.time() - moment) > tolerance:
        window = "5 minutes" if tolerance == SIGNATURE_TOLERANCE_SECONDS else f"{tolerance} seconds"
        return f"the signature timestamp is more than {window} from now; sign the request again"
    return ""


def standard_webhooks(
    request: HttpRequest, body: bytes, secret: str, tolerance: int = SIGNATURE_TOLERANCE_SECONDS
) -> AuthResult:
    delivery_id = request.headers.get("webhook-id", "")
    timestamp = request.headers.get("webhook-timestamp", "")
    if not delivery_id:
        return AuthResult(ok=False, error="the webhook-id header is missing")
    stale = _fresh(timestamp, tolerance)
    if stale:
        return AuthResult(ok=False, error=stale)
    key = secret.encode()
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"))
        except (binascii.Error, ValueError):
            return AuthResult(ok=False, error="the configured signing secret is not valid base64")
    digest = hmac.new(key, f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    for part in request.headers.get("webhook-signature", "").split():
        version, _, signature = part.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return AuthResult(ok=True, delivery_id=delivery_id)
    return AuthResult(ok=False, error="the webhook signature does not match the body")


def _flomation_signature(request: HttpRequest, body: bytes, secret: str) -> AuthResult:
    timestamp = request.headers.get("X-Flomation-Timestamp", "")
    signature = request.headers.get("X-Flomation-Signature", "").removeprefix("sha256=")
    if not signature:
        return AuthResult(ok=False, error="the X-Flomation-Signature header is missing")
    stale = _fresh(timestamp)
    if stale:
        return AuthResult(ok=False, error=stale)
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.lower().encode(), expected.encode()):
        return AuthResult(ok=False, error="the signature does not match the body")
    delivery_id = request.headers.get("X-Flomation-Delivery") or f"sig:{expected}"
    signature_hash = hashlib.sha256(expected.encode()).hexdigest()
    return AuthResult(ok=True, delivery_id=delivery_id[:200], signature_hash=signature_hash)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Flomation's signature header value for a body (for senders and tests)."""
    return (
        "sha256="
        + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    )


def cors_origin_allowed(origin: str, settings: WebhookSettings) -> bool:
    return "*" in settings.cors_origins or origin in settings.cors_origins


# Headers that carry credentials or signatures: never stored with the invocation or handed to the flow.
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "proxy-authorization",
        "x-api-key",
        "webhook-signature",
        "x-flomation-signature",
        # the app-event presets' signatures and tokens
        "x-hub-signature",
        "x-hub-signature-256",
        "x-gitlab-token",
        "stripe-signature",
        "x-shopify-hmac-sha256",
        "x-slack-signature",
        "x-twilio-signature",
        "x-telegram-bot-api-secret-token",
    }
)


def request_headers(request: HttpRequest, settings: WebhookSettings | None = None) -> dict[str, str]:
    hidden = set(SENSITIVE_HEADERS)
    if settings is not None:
        hidden.add(settings.api_key_header.lower())
        if settings.preset is not None:
            hidden.add(settings.preset.header.lower())
    return {name: value for name, value in request.headers.items() if name.lower() not in hidden}
