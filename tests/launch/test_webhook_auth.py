"""Every webhook authentication mode against a real HTTP server: right, wrong, replayed and stale."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests

from flomation.launch.models import Invocation
from flomation.launch.webhooks import sign
from tests.launch.conftest import trigger_node

BODY = json.dumps({"order": 42}).encode()


@pytest.fixture
def hook(live_world, live_server):
    def make(**inputs: str) -> str:
        live_world.deploy(trigger_node("trigger/webhook", inputs))
        return f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}"

    return make


def post(url: str, body: bytes = BODY, **headers: str) -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=10)


def test_it_accepts_an_unauthenticated_webhook_when_auth_is_none(hook, live_world):
    response = post(hook(authentication="none"))
    assert response.status_code == 202
    (execution,) = live_world.executions()
    assert response.json()["execution_id"] == str(execution.id)
    assert execution.trigger_data["body"] == {"order": 42} and execution.trigger_data["__node_id"] == "t1"


def test_it_accepts_the_right_api_key_and_refuses_a_wrong_or_missing_one(hook, live_world):
    url = hook(authentication="api_key", api_key_header="X-Hook-Key", api_key="k-123456")
    assert post(url, **{"X-Hook-Key": "k-123456"}).status_code == 202
    wrong = post(url, **{"X-Hook-Key": "k-nope"})
    assert wrong.status_code == 401 and "X-Hook-Key" in wrong.json()["error"]
    assert post(url).status_code == 401
    assert len(live_world.executions()) == 1
    assert "x-hook-key" not in {k.lower() for k in live_world.executions()[0].trigger_data["headers"]}


def test_it_accepts_the_right_bearer_token_and_refuses_a_wrong_one(hook, live_world):
    url = hook(authentication="bearer", bearer_token="tok-abcdef")
    assert post(url, Authorization="Bearer tok-abcdef").status_code == 202
    wrong = post(url, Authorization="Bearer tok-wrong")
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert len(live_world.executions()) == 1


def test_it_never_echoes_the_secret_in_a_refusal(hook):
    url = hook(authentication="bearer", bearer_token="tok-very-secret")
    assert "tok-very-secret" not in post(url, Authorization="Bearer x").text


class TestFlomationSignatures:
    SECRET = "hmac-secret-value"

    def signed(
        self,
        url: str,
        *,
        timestamp: int | None = None,
        body: bytes = BODY,
        delivery: str = "d-1",
        secret: str = SECRET,
    ):
        timestamp = int(time.time()) if timestamp is None else timestamp
        return post(
            url,
            body,
            **{
                "X-Flomation-Timestamp": str(timestamp),
                "X-Flomation-Signature": sign(secret, timestamp, body),
                "X-Flomation-Delivery": delivery,
            },
        )

    def test_it_accepts_a_correct_signature(self, hook, live_world):
        assert self.signed(hook(authentication="hmac", hmac_secret=self.SECRET)).status_code == 202
        assert Invocation.objects.get().delivery_id == "d-1"

    def test_it_refuses_a_signature_made_with_another_secret(self, hook, live_world):
        response = self.signed(hook(authentication="hmac", hmac_secret=self.SECRET), secret="other")
        assert response.status_code == 401 and "does not match" in response.json()["error"]
        assert live_world.executions() == []

    def test_it_refuses_a_body_changed_after_signing(self, hook):
        url = hook(authentication="hmac", hmac_secret=self.SECRET)
        timestamp = int(time.time())
        response = post(
            url,
            b'{"order": 43}',
            **{
                "X-Flomation-Timestamp": str(timestamp),
                "X-Flomation-Signature": sign(self.SECRET, timestamp, BODY),
            },
        )
        assert response.status_code == 401

    def test_it_refuses_a_replayed_delivery(self, hook, live_world):
        url = hook(authentication="hmac", hmac_secret=self.SECRET)
        assert self.signed(url, delivery="same").status_code == 202
        replay = self.signed(url, delivery="same")
        assert replay.status_code == 409 and "replayed" in replay.json()["error"]
        assert len(live_world.executions()) == 1

    def test_it_refuses_a_replayed_request_without_a_delivery_id(self, hook, live_world):
        url = hook(authentication="hmac", hmac_secret=self.SECRET)
        timestamp = int(time.time())
        headers = {
            "X-Flomation-Timestamp": str(timestamp),
            "X-Flomation-Signature": sign(self.SECRET, timestamp, BODY),
        }
        assert post(url, **headers).status_code == 202
        assert post(url, **headers).status_code == 409

    def test_it_refuses_a_signed_request_replayed_under_a_new_delivery_id(self, hook, live_world, caplog):
        url = hook(authentication="hmac", hmac_secret=self.SECRET)
        timestamp = int(time.time())
        signature = sign(self.SECRET, timestamp, BODY)
        headers = {"X-Flomation-Timestamp": str(timestamp), "X-Flomation-Signature": signature}
        assert post(url, **headers, **{"X-Flomation-Delivery": "d-original"}).status_code == 202
        replay = post(url, **headers, **{"X-Flomation-Delivery": "d-forged"})
        assert replay.status_code == 409 and "replayed" in replay.json()["error"]
        assert len(live_world.executions()) == 1
        assert list(Invocation.objects.values_list("delivery_id", flat=True)) == ["d-original"]
        refusals = [r for r in caplog.records if "replay" in r.getMessage()]
        assert len(refusals) == 1 and refusals[0].levelname == "WARNING"
        assert live_world.trigger().public_id in refusals[0].getMessage()
        assert signature.removeprefix("sha256=") not in refusals[0].getMessage()

    def test_a_new_signature_for_the_same_body_is_a_new_delivery(self, hook, live_world):
        url = hook(authentication="hmac", hmac_secret=self.SECRET)
        now = int(time.time())
        assert self.signed(url, timestamp=now - 1, delivery="d-a").status_code == 202
        assert self.signed(url, timestamp=now, delivery="d-b").status_code == 202
        assert len(live_world.executions()) == 2

    # Well past the window either way: a whole-second timestamp 301 s ahead is only 300.x s ahead once the
    # request has taken a fraction of a second to arrive, which the window rightly still accepts.
    @pytest.mark.parametrize("skew", [-330, 330])
    def test_it_refuses_a_stale_timestamp(self, hook, live_world, skew):
        response = self.signed(
            hook(authentication="hmac", hmac_secret=self.SECRET), timestamp=int(time.time()) + skew
        )
        assert response.status_code == 401 and "5 minutes" in response.json()["error"]
        assert live_world.executions() == []


class TestStandardWebhooks:
    KEY = b"standard-webhooks-key-bytes"
    SECRET = "whsec_" + base64.b64encode(KEY).decode()

    def signed(self, url: str, *, msg_id: str = "msg_1", timestamp: int | None = None, key: bytes = KEY):
        timestamp = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + BODY, hashlib.sha256).digest()
        signature = "v1," + base64.b64encode(digest).decode()
        return post(
            url,
            **{
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": f"v1,bm90LWl0 {signature}",
            },
        )

    def test_it_accepts_a_standard_webhooks_signature(self, hook, live_world):
        assert self.signed(hook(authentication="hmac", hmac_secret=self.SECRET)).status_code == 202
        assert "webhook-signature" not in live_world.executions()[0].trigger_data["headers"]

    def test_it_refuses_a_wrong_standard_signature(self, hook):
        assert (
            self.signed(hook(authentication="hmac", hmac_secret=self.SECRET), key=b"other").status_code == 401
        )

    def test_it_refuses_a_replayed_webhook_id(self, hook, live_world):
        url = hook(authentication="hmac", hmac_secret=self.SECRET)
        assert self.signed(url).status_code == 202
        assert self.signed(url).status_code == 409
        assert len(live_world.executions()) == 1

    def test_it_refuses_a_stale_standard_timestamp(self, hook):
        url = hook(authentication="hmac", hmac_secret=self.SECRET)
        assert self.signed(url, timestamp=int(time.time()) - 600).status_code == 401
