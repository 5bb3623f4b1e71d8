"""The webhook trigger's app-event presets over real HTTP: each sender's documented signature scheme, computed
here from the provider's documentation (not with launch's helpers), good, bad, stale and replayed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import requests

from tests.launch.conftest import trigger_node

SECRET = "whk-signing-secret-123"
JSON_BODY = json.dumps({"id": "evt_1NqQ", "type": "invoice.paid", "object": "event"}).encode()


def _hex(key: bytes, content: bytes, algorithm=hashlib.sha256) -> str:
    return hmac.new(key, content, algorithm).hexdigest()


def _b64(key: bytes, content: bytes, algorithm=hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(key, content, algorithm).digest()).decode()


@dataclass
class Sender:
    """How one app signs: headers(url, body, secret, timestamp, delivery) for a JSON or form body."""

    preset: str
    headers: Callable[[str, bytes, str, int, str], dict[str, str]]
    event: str
    delivery: Callable[[str], str]  # the delivery id launch should report, given the one the sender chose
    body: bytes = JSON_BODY
    content_type: str = "application/json"
    signs_time: bool = False
    inputs: dict[str, str] | None = None


TWILIO_PARAMS = {"MessageSid": "SM123", "From": "+15550001111", "Body": "Yes", "MessageStatus": "received"}

SENDERS = [
    Sender(
        "github",
        lambda url, body, secret, ts, d: {
            "X-Hub-Signature-256": "sha256=" + _hex(secret.encode(), body),
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": d,
        },
        "push",
        lambda d: d,
    ),
    Sender(
        "gitlab",
        lambda url, body, secret, ts, d: {
            "X-Gitlab-Token": secret,
            "X-Gitlab-Event": "Push Hook",
            "X-Gitlab-Event-UUID": d,
        },
        "Push Hook",
        lambda d: d,
    ),
    Sender(
        "stripe",
        lambda url, body, secret, ts, d: {
            "Stripe-Signature": f"t={ts},v1={_hex(secret.encode(), f'{ts}.'.encode() + body)},v0=ignored"
        },
        "invoice.paid",
        lambda d: "evt_1NqQ",  # Stripe's retry key is the event id inside the signed body
        signs_time=True,
    ),
    Sender(
        "shopify",
        lambda url, body, secret, ts, d: {
            "X-Shopify-Hmac-Sha256": _b64(secret.encode(), body),
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": d,
        },
        "orders/create",
        lambda d: d,
    ),
    Sender(
        "slack",
        lambda url, body, secret, ts, d: {
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": "v0=" + _hex(secret.encode(), f"v0:{ts}:".encode() + body),
        },
        "app_mention",
        lambda d: "Ev0PV52K21",
        body=json.dumps(
            {
                "type": "event_callback",
                "event_id": "Ev0PV52K21",
                "event": {"type": "app_mention", "text": "hi"},
            }
        ).encode(),
        signs_time=True,
    ),
    Sender(
        "twilio",
        lambda url, body, secret, ts, d: {
            "X-Twilio-Signature": _b64(
                secret.encode(),
                (url + "".join(k + TWILIO_PARAMS[k] for k in sorted(TWILIO_PARAMS))).encode(),
                hashlib.sha1,
            ),
            "I-Twilio-Idempotency-Token": d,
        },
        "message.received",
        lambda d: d,
        body=urlencode(TWILIO_PARAMS).encode(),
        content_type="application/x-www-form-urlencoded",
    ),
    Sender(
        "standard_webhooks",
        lambda url, body, secret, ts, d: {
            "webhook-id": d,
            "webhook-timestamp": str(ts),
            "webhook-signature": "v1," + _b64(secret.encode(), f"{d}.{ts}.".encode() + body),
        },
        "invoice.paid",
        lambda d: d,
        signs_time=True,
    ),
    Sender(
        "generic_hmac",
        lambda url, body, secret, ts, d: {
            "X-Acme-Signature": "sha512=" + _b64(secret.encode(), f"{ts}.".encode() + body, hashlib.sha512),
            "X-Acme-Time": str(ts),
            "X-Acme-Delivery": d,
            "X-Acme-Event": "thing.done",
        },
        "thing.done",
        lambda d: d,
        signs_time=True,
        inputs={
            "signature_header": "X-Acme-Signature",
            "signature_algorithm": "sha512",
            "signature_encoding": "base64",
            "signature_prefix": "sha512=",
            "timestamp_header": "X-Acme-Time",
            "delivery_header": "X-Acme-Delivery",
            "event_header": "X-Acme-Event",
        },
    ),
]


@pytest.fixture
def preset_hook(live_world, live_server):
    def make(sender: Sender) -> str:
        inputs = {"preset": sender.preset, "hmac_secret": SECRET, **(sender.inputs or {})}
        live_world.deploy(trigger_node("trigger/webhook", inputs))
        return f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}"

    return make


def send(
    sender: Sender, url: str, *, secret: str = SECRET, ts: int | None = None, delivery: str = "d-1"
) -> requests.Response:
    ts = int(time.time()) if ts is None else ts
    headers = {"Content-Type": sender.content_type, **sender.headers(url, sender.body, secret, ts, delivery)}
    return requests.post(url, data=sender.body, headers=headers, timeout=10)


@pytest.mark.parametrize("sender", SENDERS, ids=[s.preset for s in SENDERS])
def test_a_preset_accepts_its_senders_signature_once_and_refuses_a_bad_one(sender, preset_hook, live_world):
    url = preset_hook(sender)

    good = send(sender, url)
    assert good.status_code == 202, good.text
    (execution,) = live_world.executions()
    assert good.json()["execution_id"] == str(execution.id)
    data = execution.trigger_data
    assert (data["event"], data["delivery_id"], data["preset"]) == (
        sender.event,
        sender.delivery("d-1"),
        sender.preset,
    )
    kept = {name.lower() for name in data["headers"]}
    assert not any("signature" in name or "hmac" in name for name in kept) and "x-gitlab-token" not in kept

    replayed = send(sender, url)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {
        "status": "duplicate",
        "execution_id": str(execution.id),
        "executionId": str(execution.id),
    }

    bad = send(sender, url, secret="not-the-secret", delivery="d-2")
    assert bad.status_code == 401
    assert SECRET not in bad.text
    assert len(live_world.executions()) == 1


@pytest.mark.parametrize("sender", [s for s in SENDERS if s.signs_time], ids=lambda s: s.preset)
def test_a_preset_that_signs_a_time_refuses_a_stale_signature(sender, preset_hook, live_world):
    url = preset_hook(sender)
    stale = send(sender, url, ts=int(time.time()) - 301, delivery="d-old")
    assert stale.status_code == 401
    assert "seconds from now" in stale.json()["error"] or "5 minutes" in stale.json()["error"]
    assert live_world.executions() == []
    assert send(sender, url, ts=int(time.time()) - 200, delivery="d-recent").status_code == 202


@pytest.mark.parametrize("preset", ["github", "shopify", "twilio"])
def test_a_signed_body_replayed_under_a_new_delivery_id_starts_nothing(preset, preset_hook, live_world):
    """These senders do not sign their delivery id: the signature itself is the replay key."""
    sender = next(s for s in SENDERS if s.preset == preset)
    url = preset_hook(sender)
    assert send(sender, url, delivery="d-1").status_code == 202
    again = send(sender, url, delivery="d-forged")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert len(live_world.executions()) == 1


def test_the_slack_preset_answers_slacks_url_verification_challenge(preset_hook, live_world):
    sender = next(s for s in SENDERS if s.preset == "slack")
    url = preset_hook(sender)
    body = json.dumps(
        {"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    )
    ts = int(time.time())
    answer = requests.post(
        url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": "v0=" + _hex(SECRET.encode(), f"v0:{ts}:{body}".encode()),
        },
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert live_world.executions() == []


def test_a_stripe_signature_is_checked_against_every_v1_value_while_secrets_roll(preset_hook, live_world):
    sender = next(s for s in SENDERS if s.preset == "stripe")
    url = preset_hook(sender)
    ts = int(time.time())
    header = f"t={ts},v1={_hex(b'old-secret', f'{ts}.'.encode() + JSON_BODY)},v1={_hex(SECRET.encode(), f'{ts}.'.encode() + JSON_BODY)}"
    answer = requests.post(
        url,
        data=JSON_BODY,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=10,
    )
    assert answer.status_code == 202


def test_an_unknown_preset_makes_the_webhook_answer_that_it_is_misconfigured(live_world, live_server):
    live_world.deploy(trigger_node("trigger/webhook", {"preset": "bitbucket", "hmac_secret": SECRET}))
    url = f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}"
    answer = requests.post(url, data=b"{}", headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 503 and "unknown preset 'bitbucket'" in answer.json()["error"]


def test_a_replayed_slack_slash_command_within_the_five_minutes_starts_nothing(preset_hook, live_world):
    """A slash command has no event id: its signature, over its own timestamp, is the replay key."""
    sender = next(s for s in SENDERS if s.preset == "slack")
    command = Sender(
        "slack",
        sender.headers,
        "",
        lambda d: "",
        body=urlencode({"command": "/deploy", "text": "v2", "user_id": "U1"}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    url = preset_hook(command)
    ts = int(time.time())
    first = send(command, url, ts=ts)
    assert (
        first.status_code == 202 and live_world.executions()[0].trigger_data["body"]["command"] == "/deploy"
    )
    again = send(command, url, ts=ts)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert send(command, url, ts=ts + 1).status_code == 202  # signed again by Slack: a new command
    assert len(live_world.executions()) == 2
