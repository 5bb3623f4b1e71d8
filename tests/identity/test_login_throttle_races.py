"""Concurrent wrong passwords against a real server: no more than the limit are ever evaluated."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from flomation.identity.models import LoginFailure
from tests.identity.browser import HttpBrowser


@pytest.fixture
def racing_server(live_server, transactional_db, settings):
    settings.IDENTITY_LOGIN_FAILURE_LIMIT = 10
    return live_server


def _race(url: str, attempts: list[dict[str, str]]) -> Counter[int]:
    """Posts every attempt at once (one thread and one visitor each); returns the count of each status."""
    browsers = [HttpBrowser(url) for _ in attempts]
    tokens = [browser.csrf_token() for browser in browsers]
    start = threading.Barrier(len(attempts))
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(browser: HttpBrowser, token: str, data: dict[str, str]) -> None:
        start.wait()
        status = browser.post_form("/identity/login", data, token=token).status_code
        with lock:
            statuses.append(status)

    threads = [
        threading.Thread(target=attempt, args=(browser, token, data))
        for browser, token, data in zip(browsers, tokens, attempts, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return Counter(statuses)


def test_thirty_concurrent_wrong_passwords_are_evaluated_no_more_than_the_limit(racing_server, make_person):
    person = make_person()
    attempts = [{"email": person.email, "password": f"wrong-password-{n}"} for n in range(30)]
    statuses = _race(racing_server.url, attempts)
    # 401 is the answer of an evaluated password; 429 one refused before its password was looked at.
    assert statuses == Counter({401: 10, 429: 20})
    assert LoginFailure.objects.filter(email=person.email).count() == 10
    # The owner, with the right password, is throttled too until the window passes.
    owner = HttpBrowser(racing_server.url).log_in(person.email, person.password)
    assert owner.status_code == 429 and int(owner.headers["Retry-After"]) > 0


def test_a_right_password_among_concurrent_attempts_leaves_no_failure_behind(racing_server, make_person):
    person = make_person()
    statuses = _race(racing_server.url, [{"email": person.email, "password": person.password}] * 3)
    assert statuses == Counter({302: 3})
    assert not LoginFailure.objects.filter(email=person.email).exists()
