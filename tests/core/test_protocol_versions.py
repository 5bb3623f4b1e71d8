"""The runner protocol's version: an older runner is refused over HTTP with a message that says what to do,
a current one is served, and a runner refused for its version stops asking; the typed payloads both sides
share round-trip and name what is wrong with a malformed one."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import pytest
import requests

from flomation.core.models import Runner
from flomation.lib import protocol, signing
from flomation.runner import registration
from flomation.runner.client import ApiClient
from flomation.runner.config import RunnerConfig
from tests.runner import factories as f


@pytest.fixture
def code(transactional_db) -> str:
    return f.make_queue(f.make_organisation())[1]


def test_an_older_runner_is_refused_with_a_message_that_says_to_upgrade(live_server, code, caplog):
    body = {"registration_code": code, "public_key": signing.public_key_pem(f.test_key()), "name": "old"}
    with caplog.at_level(logging.WARNING, logger="flomation.core.protocol.views"):
        refused = requests.post(f"{live_server.url}/api/v1/runners/register", json=body, timeout=10)
    assert refused.status_code == 426
    assert refused.json()["code"] == "protocol_too_old"
    assert "version 1 of the runner protocol" in refused.json()["detail"]
    assert "Upgrade the runner" in refused.json()["detail"]
    assert not Runner.objects.exists()

    runner = f.register(code, key=f.test_key())
    path = f"/api/v1/runners/{runner.id}/claim"
    payload = b'{"free": 1, "total": 1}'
    signed = signing.sign_headers(
        f.test_key(), runner_id=str(runner.id), method="POST", path=path, body=payload
    )
    old = requests.post(live_server.url + path, data=payload, headers=signed, timeout=10)
    assert old.status_code == 426 and old.json()["code"] == "protocol_too_old"
    refusals = [r.getMessage() for r in caplog.records if "runner protocol" in r.getMessage()]
    assert len(refusals) == 2  # each refusal logged once, naming the runner where known
    assert "(registering)" in refusals[0] and str(runner.id) in refusals[1]

    current = ApiClient(live_server.url, runner_id=str(runner.id), key=f.test_key())
    assert current.call("POST", "claim", protocol.ClaimRequest(free=1, total=1).to_dict()) == {
        "executions": []
    }


def test_a_runner_the_server_finds_too_old_stops_registering(
    live_server, code, tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(protocol, "MIN_VERSION", protocol.VERSION + 1)  # a server one version ahead
    config = RunnerConfig(url=live_server.url, registration_code=code, state_directory=str(tmp_path))
    client = ApiClient(live_server.url, key=f.test_key())
    with caplog.at_level(logging.ERROR, logger="flomation.runner.registration"):
        assert registration.ensure_registered(config, client, threading.Event()) is False
    assert "Upgrade the runner" in caplog.text
    assert not Runner.objects.exists()


def test_a_claimed_job_round_trips_and_keeps_an_egress_policy():
    job = protocol.ClaimedJob(
        id="e1", lease_token="t1", attempt=2, flow={"nodes": []}, egress={"allow": ["10.0.0.0/8"]}
    )
    assert protocol.ClaimedJob.from_dict(job.to_dict()) == job
    assert "egress" not in protocol.ClaimedJob(id="e1", lease_token="t1", attempt=1, flow={}).to_dict()


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        (protocol.ClaimedJob, {"lease_token": "t"}, "needs 'id'"),
        (protocol.Report, {"executions": {"id": 1}}, "'executions' must be a list of objects"),
        (protocol.Heartbeat, {"executions": ["e1"]}, "'executions' must be a list of {id, lease_token}"),
        (protocol.ClaimRequest, {"free": "many"}, "'free' must be a number"),
        (protocol.ExecutionReport, [], "must be a JSON object"),
    ],
)
def test_a_malformed_payload_is_refused_with_what_is_wrong(kind, data, message):
    with pytest.raises(protocol.PayloadError, match=message.replace("{", r"\{").replace("}", r"\}")):
        kind.from_dict(data)


def test_the_shared_protocol_modules_import_no_django():
    code = "import sys, flomation.lib.protocol, flomation.lib.signing; print(any(m.startswith('django') for m in sys.modules))"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
