"""Guessing runner registration codes over real HTTP: wrong codes are limited per client address."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from flomation.core.models import RegistrationFailure, Runner
from flomation.lib import protocol
from flomation.runner import signing
from tests.runner import factories as f


@pytest.fixture
def register_url(live_server, transactional_db, settings):
    settings.RUNNER_REGISTRATION_FAILURE_LIMIT = 10
    settings.RUNNER_REGISTRATION_FAILURE_WINDOW = 900
    return f"{live_server.url}/api/v1/runners/register"


def register(url: str, code: str) -> requests.Response:
    body = {"registration_code": code, "public_key": signing.public_key_pem(f.test_key()), "name": "box"}
    return requests.post(url, json=body, headers={protocol.HEADER: str(protocol.VERSION)}, timeout=30)


def test_wrong_codes_from_one_address_are_refused_after_the_limit_even_with_the_right_code(
    register_url, caplog
):
    _, code = f.make_queue(f.make_organisation())
    for n in range(10):
        wrong = register(register_url, f"frq_guess-{n}")
        assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_registration_code"
    throttled = register(register_url, "frq_guess-10")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "too_many_attempts"
    assert 0 < int(throttled.headers["Retry-After"]) <= 900
    right_but_throttled = register(register_url, code)
    assert right_but_throttled.status_code == 429 and "Retry-After" in right_but_throttled.headers
    assert not Runner.objects.exists()
    assert RegistrationFailure.objects.filter(ip_address="127.0.0.1").count() == 10
    refusals = [r for r in caplog.records if r.getMessage().startswith("Runner registration refused")]
    assert len(refusals) == 12 and all(r.levelname == "WARNING" for r in refusals)
    assert not any(code in r.getMessage() or "frq_guess" in r.getMessage() for r in refusals)


def test_a_right_code_does_not_count_towards_the_limit(register_url):
    _, code = f.make_queue(f.make_organisation())
    for _ in range(12):
        assert register(register_url, code).status_code == 201
    for n in range(9):
        assert register(register_url, f"frq_guess-{n}").status_code == 403
    assert register(register_url, code).status_code == 201
    assert not RegistrationFailure.objects.filter(ip_address__isnull=True).exists()


def test_the_limit_lifts_when_the_window_has_passed(register_url, settings):
    settings.RUNNER_REGISTRATION_FAILURE_LIMIT = 2
    _, code = f.make_queue(f.make_organisation())
    assert register(register_url, "frq_a").status_code == 403
    assert register(register_url, "frq_b").status_code == 403
    assert register(register_url, code).status_code == 429
    RegistrationFailure.objects.update(created_at=timezone.now() - timedelta(seconds=901))
    assert register(register_url, code).status_code == 201
