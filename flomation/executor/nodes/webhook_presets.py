"""The webhook trigger's app-event presets as inputs: the preset chooses the sender's signature scheme
(launch's `flomation.launch.signatures` verifies it), the rest configure the generic HMAC preset."""

from __future__ import annotations

import copy

from flomation.executor.registry import Input

_GENERIC = {"preset": ("generic_hmac",)}

PRESET_INPUTS = (
    Input(
        "preset",
        "string",
        default="none",
        options=(
            {"name": "None (use Authentication)", "value": "none"},
            {"name": "GitHub (X-Hub-Signature-256)", "value": "github"},
            {"name": "GitLab (X-Gitlab-Token)", "value": "gitlab"},
            {"name": "Stripe (Stripe-Signature)", "value": "stripe"},
            {"name": "Shopify (X-Shopify-Hmac-Sha256)", "value": "shopify"},
            {"name": "Slack (X-Slack-Signature)", "value": "slack"},
            {"name": "Twilio (X-Twilio-Signature)", "value": "twilio"},
            {"name": "Standard Webhooks (webhook-signature)", "value": "standard_webhooks"},
            {"name": "Generic HMAC", "value": "generic_hmac"},
        ),
        accepts=("custom", ""),
        description=(
            "An app that calls this webhook: its signature is checked with the signing secret (hmac_secret; "
            "GitLab's secret token, Twilio's auth token), a bad or stale one answers 401, a retried delivery "
            "answers 200 without a new run, and the outputs gain event, delivery_id and preset."
        ),
    ),
    Input(
        "signature_tolerance",
        "integer",
        default=300,
        description="Seconds a signed timestamp may be from now (Stripe, Slack, Standard Webhooks, generic).",
        shown_when={"preset": ("stripe", "slack", "standard_webhooks", "generic_hmac")},
    ),
    Input(
        "signature_url",
        "string",
        description="Twilio: the URL as Twilio calls it, when a proxy in front of launch rewrites it.",
        shown_when={"preset": ("twilio",)},
    ),
    Input(
        "signature_header",
        "string",
        default="X-Signature",
        description="Generic HMAC: the header.",
        shown_when=_GENERIC,
    ),
    Input(
        "signature_algorithm",
        "string",
        default="sha256",
        options=("sha256", "sha1", "sha512"),
        description="Generic HMAC: the hash.",
        shown_when=_GENERIC,
    ),
    Input(
        "signature_encoding",
        "string",
        default="hex",
        options=("hex", "base64"),
        description="Generic HMAC: how the digest is written.",
        shown_when=_GENERIC,
    ),
    Input(
        "signature_prefix",
        "string",
        description="Generic HMAC: text before the digest, e.g. sha256=.",
        shown_when=_GENERIC,
    ),
    Input(
        "timestamp_header",
        "string",
        description="Generic HMAC: a header with a Unix time; then '{timestamp}.{body}' is signed.",
        shown_when=_GENERIC,
    ),
    Input(
        "delivery_header",
        "string",
        description="Generic HMAC: the header with the delivery id.",
        shown_when=_GENERIC,
    ),
    Input(
        "event_header",
        "string",
        description="Generic HMAC: the header with the event type.",
        shown_when=_GENERIC,
    ),
)


# The plain authentication settings, which a preset replaces: shown only while no preset is chosen.
_PLAIN_AUTH = frozenset({"authentication", "api_key_header", "api_key", "bearer_token"})


def hidden_under_preset(inputs: tuple[Input, ...]) -> tuple[Input, ...]:
    shown = []
    for declared in inputs:
        if declared.name in _PLAIN_AUTH:
            declared = copy.copy(declared)
            declared.shown_when = {"preset": ("none", "custom", "")}
        shown.append(declared)
    return tuple(shown)
