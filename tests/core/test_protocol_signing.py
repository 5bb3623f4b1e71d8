"""Registration and signed requests of the runner protocol (through Django's test client)."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from flomation.core.models import Runner, RunnerNonce
from flomation.lib import signing
from tests.runner import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue_and_code():
    return f.make_queue(f.make_organisation())


@pytest.fixture
def runner(queue_and_code):
    return f.register(queue_and_code[1], key=f.test_key())


def whoami(client, runner, key=None, **kwargs):
    return f.signed_request(
        client, runner.id, key or f.test_key(), "GET", f"/api/v1/runners/{runner.id}/whoami", **kwargs
    )


def test_a_runner_registers_with_its_queues_code(client, queue_and_code):
    queue, code = queue_and_code
    body = {
        "registration_code": code,
        "public_key": signing.public_key_pem(f.test_key()),
        "name": "box-1",
        "slots": 3,
    }
    response = client.post(
        "/api/v1/runners/register", data=body, content_type="application/json", headers=f.PROTOCOL
    )
    assert response.status_code == 201
    runner = Runner.objects.get(id=response.json()["runner_id"])
    assert (runner.queue_id, runner.name, runner.slots_total) == (queue.id, "box-1", 3)


def test_registering_the_same_key_again_returns_the_same_runner(client, queue_and_code):
    first = f.register(queue_and_code[1], key=f.test_key())
    second = f.register(queue_and_code[1], key=f.test_key())
    assert first.id == second.id
    assert Runner.objects.count() == 1


def test_it_refuses_a_wrong_registration_code_with_a_clear_message(client):
    body = {"registration_code": "frq_not-a-code", "public_key": signing.public_key_pem(f.test_key())}
    response = client.post(
        "/api/v1/runners/register", data=body, content_type="application/json", headers=f.PROTOCOL
    )
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_registration_code"
    assert "registration code is not valid" in response.json()["detail"]
    assert not Runner.objects.exists()


def test_it_refuses_a_public_key_that_is_not_rsa_2048(client, queue_and_code):
    body = {"registration_code": queue_and_code[1], "public_key": "-----BEGIN PUBLIC KEY-----\nnope\n"}
    response = client.post(
        "/api/v1/runners/register", data=body, content_type="application/json", headers=f.PROTOCOL
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_public_key"


def test_a_signed_request_is_accepted_and_burns_its_nonce(client, runner):
    response = whoami(client, runner)
    assert response.status_code == 200
    assert response.json()["runner_id"] == str(runner.id)
    assert RunnerNonce.objects.filter(runner=runner).count() == 1


def test_it_refuses_a_replayed_signature(client, runner):
    path = f"/api/v1/runners/{runner.id}/whoami"
    headers = signing.sign_headers(f.test_key(), runner_id=str(runner.id), method="GET", path=path, body=b"")
    assert client.get(path, headers={**headers, **f.PROTOCOL}).status_code == 200
    replay = client.get(path, headers={**headers, **f.PROTOCOL})
    assert replay.status_code == 401
    assert replay.json()["code"] == "replayed"


def test_it_refuses_a_stale_timestamp(client, runner):
    # Well past the window either way: signed timestamps are whole seconds, so one made 301 s ahead is only
    # 300.x s ahead when checked a moment later, which the window still accepts.
    for skew in (-330, 330):
        response = whoami(client, runner, now=time.time() + skew)
        assert response.status_code == 401
        assert response.json()["code"] == "stale_timestamp"
        assert "clock" in response.json()["detail"]


def test_it_accepts_a_timestamp_inside_the_window(client, runner):
    assert whoami(client, runner, now=time.time() - 290).status_code == 200


def test_it_refuses_a_signature_from_another_key(client, runner):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = whoami(client, runner, key=other_key)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


def test_it_refuses_a_body_changed_after_signing(client, runner):
    path = f"/api/v1/runners/{runner.id}/heartbeat"
    signed = signing.sign_headers(
        f.test_key(), runner_id=str(runner.id), method="POST", path=path, body=b'{"busy":0}'
    )
    signed.pop(signing.HEADER_BODY_HASH)
    response = client.post(
        path, data=b'{"busy":1}', content_type="application/json", headers={**signed, **f.PROTOCOL}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


def test_it_refuses_a_path_changed_after_signing(client, runner):
    signed = signing.sign_headers(
        f.test_key(),
        runner_id=str(runner.id),
        method="GET",
        path=f"/api/v1/runners/{runner.id}/whoami?a=1",
        body=b"",
    )
    response = client.get(f"/api/v1/runners/{runner.id}/whoami?a=2", headers={**signed, **f.PROTOCOL})
    assert response.status_code == 401


def test_it_refuses_an_unsigned_request(client, runner):
    response = client.post(
        f"/api/v1/runners/{runner.id}/claim", data={}, content_type="application/json", headers=f.PROTOCOL
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unsigned"


def test_it_refuses_an_unknown_runner(client, runner):
    runner_id = runner.id
    runner.delete()
    response = f.signed_request(client, runner_id, f.test_key(), "GET", f"/api/v1/runners/{runner_id}/whoami")
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_runner"


def test_it_refuses_a_disabled_runner(client, runner):
    Runner.objects.filter(id=runner.id).update(enabled=False)
    response = whoami(client, runner)
    assert response.status_code == 403
    assert response.json() == {
        "code": "runner_disabled",
        "detail": "This runner is disabled: an admin can enable it again.",
    }


def test_expired_nonces_are_purged(client, runner):
    from flomation.core.services.runs import nonces_purge_expired

    assert whoami(client, runner, now=time.time() - 280).status_code == 200  # inside the window
    assert whoami(client, runner).status_code == 200
    RunnerNonce.objects.filter(runner=runner).update(expires_at="2000-01-01T00:00:00Z")
    assert nonces_purge_expired() == 2
    assert json.loads(whoami(client, runner).content)["runner_id"] == str(runner.id)
