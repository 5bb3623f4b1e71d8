"""Each role serves exactly its URL set and starts exactly its loops; `all` is the sum of them."""

from __future__ import annotations

import importlib
import re

import pytest
from django.urls import Resolver404, clear_url_caches, resolve

from flomation.roles import ROLE_NAMES, RoleError, parse_roles
from tests.support.servers import serve

# A path each web role answers (resolved by its URL set; the object behind it need not exist).
PROBES = {
    "identity": ["/identity/authenticate", "/identity/api/user"],
    "api": ["/api/v1/", "/api/v1/schema/", "/admin/login/", "/api/v1/runners/register"],
    "launch": ["/launch/webhook/0d3f2c1a-9a4b-4a3e-8f00-000000000000"],
    "editor": ["/"],
}
LOOPS = {
    "identity": set(),
    "api": {
        "api:resume_due",
        "api:retention",
        "api:reclaim_expired_leases",
        "api:flows_folder",
        "api:git_sync",
    },
    "launch": {"launch:run"},
    "editor": set(),
    "runner": {"runner:run_runner"},
    "worker": {"worker:run_celery_worker"},
}
HEALTH = ["/healthz", "/readyz", "/version"]


@pytest.fixture
def urlconf_for(settings):
    """Builds the URL configuration a process with the given roles would have."""
    import flomation.urls

    def build(roles: str):
        settings.FLOMATION_ROLES = parse_roles(roles)
        clear_url_caches()
        return importlib.reload(flomation.urls)

    yield build
    settings.FLOMATION_ROLES = parse_roles("all")
    clear_url_caches()
    importlib.reload(flomation.urls)


def resolves(path: str, urlconf) -> bool:
    try:
        resolve(path, urlconf=urlconf)
    except Resolver404:
        return False
    return True


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_a_role_serves_exactly_its_url_set(role, urlconf_for):
    urlconf = urlconf_for(role)
    for owner, paths in PROBES.items():
        for path in paths:
            assert resolves(path, urlconf) == (owner == role), f"{path} with role {role}"
    for path in HEALTH:
        assert resolves(path, urlconf) == (role in PROBES), f"{path} with role {role}"


def test_role_all_serves_every_url_set(urlconf_for):
    urlconf = urlconf_for("all")
    assert all(resolves(path, urlconf) for paths in PROBES.values() for path in paths + HEALTH)


def test_unknown_roles_are_refused():
    with pytest.raises(RoleError, match="unknown role web"):
        parse_roles("api,web")
    assert parse_roles(" API , launch ") == {"api", "launch"}
    assert parse_roles("all") == set(ROLE_NAMES)


def started_loops(log: str) -> set[str]:
    match = re.search(r"loops ([^\n]+)", log)
    return {name.strip() for name in match.group(1).split(",")} if match else set()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_a_served_role_starts_exactly_its_loops(role, tmp_path):
    env = {
        "worker": {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"},
        # A runner on its own box: an API that is not there yet, which it must keep retrying quietly.
        "runner": {
            "FLOMATION_API": "http://127.0.0.1:9",
            "FLOMATION_REGISTRATION_CODE": "frq_unused",
            "FLOMATION_RUNNER_STATE_DIRECTORY": str(tmp_path / "runner"),
        },
    }.get(role, {})
    wait_path = "/healthz" if role in PROBES else ""
    with serve(role, tmp_path=tmp_path, env=env, wait_path=wait_path) as server:
        if not wait_path:
            _wait_for(lambda: "Flomation" in server.log())
        assert started_loops(server.log()) == LOOPS[role], server.log()
        elapsed = server.stop()
    assert elapsed < 5, server.log()


@pytest.mark.django_db(transaction=True)
def test_the_worker_role_runs_a_celery_worker_that_answers(tmp_path):
    from celery import Celery

    broker = "redis://127.0.0.1:6379/14"
    with serve("worker", tmp_path=tmp_path, env={"CELERY_BROKER_URL": broker}, wait_path="") as server:
        app = Celery(broker=broker)
        replies: list = []
        _wait_for(lambda: replies.extend(app.control.ping(timeout=1.0)) or bool(replies), timeout=30)
        assert any(name.startswith("flomation@") for reply in replies for name in reply), replies
        assert server.stop() < 5, server.log()


def _wait_for(condition, timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")
