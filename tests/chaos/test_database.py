"""The database fails under webhook load: killed (kill -9 of the embedded postmaster) or restarted
(`pg_ctl restart -m fast`). The platform answers 503 (never 500) while it is away, comes back by itself
within 10 s, and loses no accepted webhook."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from flomation.identity.tokens import token_issue
from flomation.lib import signing
from flomation.lib.protocol import HEADER, VERSION
from tests.chaos.conftest import ChaosDatabase, WebhookLoad
from tests.support.servers import free_port, serve

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

RECOVERY_SECONDS = 10.0


def executions_missing(chaos_db: ChaosDatabase, accepted: list[str]) -> list[str]:
    stored = {str(row[0]) for row in chaos_db.query("SELECT id FROM core_execution")}
    return [execution for execution in accepted if execution not in stored]


def wait_ready(url: str, after: float, timeout: float) -> tuple[float | None, set[str]]:
    """Polls /readyz until it says ok; returns when (or None) and the reasons it gave meanwhile."""
    reasons: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer = requests.get(url + "/readyz", timeout=5)
        except requests.RequestException:
            time.sleep(0.1)
            continue
        if answer.status_code == 200 and time.monotonic() > after:
            return time.monotonic(), reasons
        reasons.add(answer.json().get("reason", ""))
        time.sleep(0.1)
    return None, reasons


def report(title: str, load: WebhookLoad, **figures: object) -> None:
    statuses = dict(sorted(load.statuses().items()))
    print(
        f"\n[chaos] {title}: answers {statuses}, no answer {len(load.failures)}, "
        + ", ".join(f"{name} {value}" for name, value in figures.items())
    )


def test_the_embedded_database_killed_under_webhook_load_is_started_again_within_10_seconds(
    chaos_db: ChaosDatabase, tmp_path
):
    with serve("launch,api", tmp_path=tmp_path, env=chaos_db.env, workers=2) as server:
        url = f"{server.url}/launch/webhook/{chaos_db.webhook_id}"
        with WebhookLoad(url, threads=4) as load:
            time.sleep(2)
            old_pid, _ = chaos_db.postmaster()
            os.kill(old_pid, signal.SIGKILL)
            killed_at = time.monotonic()
            accepted_at = load.wait_for_acceptance_after(killed_at, timeout=RECOVERY_SECONDS + 5)
            ready_at, reasons = wait_ready(server.url, killed_at, timeout=RECOVERY_SECONDS + 5)
            time.sleep(1)
        log = server.log()
        new_pid, status = chaos_db.postmaster()
        accepted = load.accepted()
        missing = executions_missing(chaos_db, accepted)  # while serve runs: its last process stops it
    statuses = load.statuses()
    recovered = None if accepted_at is None else round(accepted_at - killed_at, 2)
    report(
        "embedded postmaster killed under load",
        load,
        recovered_in_s=recovered,
        readyz_ok_in_s=None if ready_at is None else round(ready_at - killed_at, 2),
        accepted=len(accepted),
        lost=len(missing),
    )
    assert new_pid and new_pid != old_pid and status == "ready"
    assert recovered is not None and recovered < RECOVERY_SECONDS, log[-3000:]
    assert ready_at is not None and ready_at - killed_at < RECOVERY_SECONDS
    assert set(statuses) <= {202, 503}, (statuses, log[-3000:])
    assert not load.failures, load.failures[:5]
    assert missing == [] and len(accepted) > 0
    assert "starting it again" in log


def test_a_database_restart_under_webhook_load_answers_503_not_500_and_loses_nothing(
    chaos_db: ChaosDatabase, tmp_path
):
    with serve("launch,api", tmp_path=tmp_path, env=chaos_db.env, workers=2) as server:
        url = f"{server.url}/launch/webhook/{chaos_db.webhook_id}"
        with WebhookLoad(url, threads=4) as load:
            time.sleep(2)
            restarted_at = time.monotonic()
            chaos_db.pg_ctl("restart", "-m", "fast")
            restart_took = time.monotonic() - restarted_at
            accepted_at = load.wait_for_acceptance_after(time.monotonic(), timeout=RECOVERY_SECONDS)
            time.sleep(1)
        log = server.log()
        accepted = load.accepted()
        missing = executions_missing(chaos_db, accepted)
    statuses = load.statuses()
    report(
        "pg_ctl restart -m fast under load",
        load,
        restart_s=round(restart_took, 2),
        accepted=len(accepted),
        lost=len(missing),
    )
    assert accepted_at is not None, log[-3000:]
    assert set(statuses) <= {202, 503}, (statuses, log[-3000:])
    assert not load.failures, load.failures[:5]
    assert missing == []


def test_every_role_answers_503_with_retry_after_while_the_database_is_unreachable(tmp_path):
    closed = free_port()  # nothing listens there: a database server that is down
    env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed}/flomation", "LOG_LEVEL": "WARNING"}
    runner = "3f1c2a4e-0000-4000-8000-000000000001"
    webhook = "wh_0000000000000000"
    # A well-signed token: checking its session needs the database.
    token = token_issue(user_id=str(uuid.uuid4()), email="ada@example.com", token_id=str(uuid.uuid4()))[0]
    bearer = {"Authorization": f"Bearer {token}"}
    protocol = {HEADER: str(VERSION)}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    registration = {"registration_code": "x" * 32, "public_key": signing.public_key_pem(key), "name": "r"}
    with serve("all", tmp_path=tmp_path, env=env, args=("--no-loops",)) as server:
        calls = {
            "webhook ingress": ("POST", f"/launch/webhook/{webhook}", {"a": 1}, {}),
            "api": ("GET", "/api/v1/organisations", None, {"Authorization": "Bearer flo_" + "a" * 40}),
            "api (identity token)": ("GET", "/api/v1/organisations", None, bearer),
            "runner protocol": ("POST", f"/api/v1/runners/{runner}/heartbeat", {"executions": []}, protocol),
            "runner registration": ("POST", "/api/v1/runners/register", registration, protocol),
            "identity login page": ("GET", "/identity/authenticate", None, bearer),
            "identity introspection": ("GET", "/identity/api/user", None, bearer),
        }
        answers = {}
        for name, (method, path, body, headers) in calls.items():
            answer = requests.request(method, server.url + path, json=body, headers=headers, timeout=30)
            answers[name] = (answer.status_code, answer.headers.get("Retry-After"), answer.text[:200])
        ready = requests.get(server.url + "/readyz", timeout=30)
        log = server.log()
    print("\n[chaos] database unreachable:", {name: answer[0] for name, answer in answers.items()})
    for name, (status, retry_after, text) in answers.items():
        assert (status, retry_after) == (503, "5"), (name, text, log[-2000:])
        assert "database_unavailable" in text, (name, text)
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
    assert ready.json()["reason"] == "the database is unavailable: it does not accept connections"
    assert "Internal Server Error" not in log
