"""Launch's pollers under the egress policy: a tenant's trigger cannot reach the platform's own database,
loopback or local files, unless an operator allowed it for that organisation or the whole platform.

The workflows are created and deployed through the real API over HTTP (the live server), then polled the
way the launch loop polls them (one `handle_one()`)."""

from __future__ import annotations

import socket
import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
import requests
from django.db import connection
from django.utils import timezone

from flomation.core import models as m
from flomation.core.models import Execution
from flomation.launch.loops import LaunchLoop
from flomation.launch.models import Trigger
from flomation.launch.services.timed import poller_run
from tests.core import factories as f
from tests.core.conftest import identity_token
from tests.launch.conftest import flow_with, trigger_node


class Tenant:
    """An organisation whose owner works through the real API."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.organisation = f.OrganisationFactory(name=f"Tenant {uuid.uuid4().hex[:6]}")
        owner = f.MembershipFactory(organisation=self.organisation, role=m.MemberRole.OWNER).account
        self.headers = {"Authorization": "Bearer " + identity_token(owner)}

    def deploy(self, *nodes: dict) -> Trigger:
        """Creates a workflow with these trigger nodes and deploys it to production through the API."""
        base = f"{self.api}/api/v1/organisations/{self.organisation.id}"
        created = requests.post(
            f"{base}/workflows/",
            json={"name": "Orders", "flow": flow_with(*nodes)},
            headers=self.headers,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        workflow = created.json()["id"]
        deployed = requests.post(
            f"{base}/workflows/{workflow}/deployments/",
            json={"environment": "production", "revision": 1},
            headers=self.headers,
            timeout=10,
        )
        assert deployed.status_code == 201, deployed.text
        return Trigger.objects.get(workflow_id=workflow, node_id=nodes[0]["id"])


@pytest.fixture
def tenant(transactional_db, live_server, settings):
    settings.ROOT_URLCONF = "flomation.urls"
    return lambda: Tenant(live_server.url)


def poll_once(trigger: Trigger) -> Trigger:
    """One tick of the launch loop with the trigger due; returns it as stored afterwards."""
    Trigger.objects.filter(id=trigger.id).update(next_run_at=timezone.now() - timedelta(seconds=1))
    LaunchLoop(owner=f"test-{uuid.uuid4().hex[:6]}").handle_one()
    return Trigger.objects.get(id=trigger.id)


def database_row(dsn: str) -> dict:
    return trigger_node(
        "trigger/database_row",
        {"connection": dsn, "table": "core_organisation", "column": "created_at", "include_existing": True},
    )


@pytest.fixture
def platform_dsn() -> str:
    """The platform's own database, as a tenant would write it after guessing the socket directory."""
    params = connection.get_connection_params()
    host = str(params.get("host") or "127.0.0.1")
    name = connection.settings_dict["NAME"]
    user = params.get("user") or "postgres"
    if host.startswith("/"):
        return f"postgresql:///{name}?host={host}&user={user}"
    return f"postgresql://{user}@{host}:{params.get('port') or 5432}/{name}"


class Listener:
    """A TCP port on loopback that records every connection made to it (nothing must arrive)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            client.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def test_a_database_row_trigger_cannot_read_the_platforms_own_database(tenant, platform_dsn, caplog):
    acme = tenant()
    trigger = acme.deploy(database_row(platform_dsn))
    after = poll_once(trigger)
    assert after.last_error.startswith("egress refused:"), after.last_error
    assert "the platform's own database" in after.last_error or "on this machine" in after.last_error
    assert "an operator can allow it" in after.last_error
    # Nothing was read: no cursor, no execution carrying another tenant's rows.
    assert after.cursor is None and not Execution.objects.filter(workflow_id=trigger.workflow_id).exists()
    refusals = [r for r in caplog.records if "egress refused" in r.getMessage()]
    assert len(refusals) == 1 and str(acme.organisation.id) in refusals[0].getMessage()
    assert trigger.public_id in refusals[0].getMessage()


def test_the_platforms_database_socket_stays_refused_when_local_sockets_are_allowed(
    tenant, platform_dsn, settings
):
    if "?host=/" not in platform_dsn:
        pytest.skip("the test database is not reached over a unix socket")
    settings.EGRESS_ALLOW_LOCAL = True
    trigger = tenant().deploy(database_row(platform_dsn))
    after = poll_once(trigger)
    assert "the platform's own database" in after.last_error and after.cursor is None


def test_a_database_row_trigger_on_loopback_connects_to_nothing(tenant, listener):
    trigger = tenant().deploy(
        database_row(f"postgresql://postgres:pw-hunter2@127.0.0.1:{listener.port}/postgres")
    )
    after = poll_once(trigger)
    assert "127.0.0.1 is a loopback address" in after.last_error
    assert "pw-hunter2" not in after.last_error and listener.accepted == 0


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql:///flomation",  # no host: libpq's default unix socket
        "host=/var/run/postgresql dbname=flomation user=postgres",
        "postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/flomation",
        "postgresql://db.example.com/flomation?service=platform",
        "postgresql://db.example.com/flomation?sslkey=/etc/ssl/private/platform.key",
        "host=db.example.com,/tmp port=5432 dbname=flomation",
        "host=db.example.com hostaddr=127.0.0.1 dbname=flomation",
    ],
    ids=["no-host", "key-value-socket", "uri-socket", "service-file", "key-file", "second-host", "hostaddr"],
)
def test_socket_and_file_connection_strings_are_refused(tenant, dsn):
    trigger = tenant().deploy(database_row(dsn))
    after = poll_once(trigger)
    assert after.last_error.startswith("egress refused:"), after.last_error
    assert after.cursor is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///srv/repositories/platform.git",
        "/srv/repositories/platform.git",
        "https://127.0.0.1:9/repo.git",
        "ssh://git@169.254.169.254/repo.git",
        "git@[::1]:repo.git",
    ],
)
def test_git_triggers_reach_neither_local_repositories_nor_internal_hosts(tenant, url, tmp_path, settings):
    # Past the argument checks (local repositories allowed, https; ext:: and http are refused before this
    # policy, tests/launch/test_git_poll_arguments.py), the egress policy decides.
    settings.GIT_ALLOW_FILE_URLS = True
    settings.VAR_DIR = tmp_path
    trigger = tenant().deploy(trigger_node("trigger/git_poll", {"url": url, "branch": "main"}))
    after = poll_once(trigger)
    assert after.last_error.startswith("egress refused:"), after.last_error
    assert not (tmp_path / "launch").exists()


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "amqp://guest:guest@localhost:5672//", "redis+socket:///run/redis.sock"],
)
def test_queue_triggers_reach_no_broker_on_this_machine(tenant, url):
    trigger = tenant().deploy(trigger_node("trigger/queue", {"broker_url": url, "queue": "orders"}))
    after = poll_once(trigger)
    assert after.last_error.startswith("egress refused:"), after.last_error
    assert "guest:guest" not in after.last_error


def test_an_imap_trigger_on_loopback_connects_to_nothing(tenant, listener):
    trigger = tenant().deploy(
        trigger_node(
            "trigger/email",
            {
                "host": "localhost",
                "port": listener.port,
                "security": "none",
                "username": "u",
                "password": "p",
            },
        )
    )
    after = poll_once(trigger)
    assert "localhost (127.0.0.1) is a loopback address" in after.last_error
    assert listener.accepted == 0


@pytest.fixture
def machine_table():
    """A table in the machine's PostgreSQL on 127.0.0.1:5432 (not the platform's database)."""
    settings_dict = connection.settings_dict
    if settings_dict.get("HOST") in ("127.0.0.1", "localhost") and str(settings_dict.get("PORT")) in (
        "",
        "5432",
    ):
        pytest.skip("the platform's own database listens on 127.0.0.1:5432 here")
    try:
        conn = psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    table = f"egress_orders_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, customer text)")
    conn.execute(f"INSERT INTO {table} (customer) VALUES ('ada')")
    yield table
    conn.execute(f"DROP TABLE {table}")
    conn.close()


def test_only_the_organisation_allowed_a_range_reaches_it(tenant, machine_table):
    dsn = "postgresql://postgres@127.0.0.1:5432/postgres"
    node = trigger_node(
        "trigger/database_row",
        {"connection": dsn, "table": machine_table, "column": "id", "include_existing": True},
    )
    allowed, other = tenant(), tenant()
    m.Organisation.objects.filter(id=allowed.organisation.id).update(egress_allow=["127.0.0.1/32"])
    reaching = allowed.deploy(node)
    refused = other.deploy(node)
    assert poller_run(trigger=reaching, now=timezone.now()) == 1
    assert Execution.objects.get(workflow_id=reaching.workflow_id).trigger_data["customer"] == "ada"
    after = poll_once(refused)
    assert "127.0.0.1 is a loopback address" in after.last_error
    assert not Execution.objects.filter(workflow_id=refused.workflow_id).exists()


def test_a_platform_wide_range_reaches_every_organisation(tenant, machine_table, settings):
    settings.EGRESS_ALLOW = ["127.0.0.0/8"]
    trigger = tenant().deploy(
        trigger_node(
            "trigger/database_row",
            {
                "connection": "postgresql://postgres@127.0.0.1:5432/postgres",
                "table": machine_table,
                "column": "id",
                "include_existing": True,
            },
        )
    )
    assert poller_run(trigger=trigger, now=timezone.now()) == 1
