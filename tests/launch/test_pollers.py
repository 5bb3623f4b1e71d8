"""Pollers against real servers on loopback: a bare Git repository, PostgreSQL, Dovecot (IMAP),
RabbitMQ and Redis. Each poll runs the way the launch loop runs it (poller_run under its cursor)."""

from __future__ import annotations

import imaplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

import psycopg
import pytest
from kombu import Connection

from flomation.launch.models import Trigger
from flomation.launch.services.timed import poller_run, timed_trigger_run
from tests.launch.conftest import trigger_node
from tests.launch.servers import GitRepository, dovecot, port_open

NOW = datetime(2030, 1, 1, tzinfo=UTC)

# The servers polled here run on this machine; the egress policy's own tests use the strict default.
pytestmark = pytest.mark.usefixtures("local_servers_allowed")


def poll(world) -> int:
    return poller_run(trigger=world.trigger(), now=NOW)


@pytest.fixture
def local_repositories_allowed(settings):
    """These tests poll a bare repository on this disk: the operator allowance is off by default."""
    settings.GIT_ALLOW_FILE_URLS = True


@pytest.mark.usefixtures("local_repositories_allowed")
class TestGitPoll:
    def test_new_commits_on_the_branch_start_one_run_carrying_them(self, world, tmp_path, settings):
        settings.VAR_DIR = tmp_path / "var"
        repo = GitRepository(tmp_path)
        first = repo.commit("initial")
        world.deploy(
            trigger_node("trigger/git_poll", {"url": str(repo.bare), "branch": "main", "interval": 60})
        )
        assert poll(world) == 0  # the first poll remembers where the branch is
        assert world.trigger().cursor == {"head": first}
        assert poll(world) == 0  # nothing new
        repo.commit("add invoices")
        head = repo.commit("fix totals")
        assert poll(world) == 1
        (execution,) = world.executions()
        data = execution.trigger_data
        assert data["before"] == first and data["after"] == head and data["branch"] == "main"
        assert [c["message"] for c in data["commits"]] == ["add invoices", "fix totals"]
        assert data["author"] == "Ada" and world.trigger().cursor == {"head": head}

    def test_a_missing_branch_shows_as_the_triggers_error(self, world, tmp_path):
        repo = GitRepository(tmp_path)
        repo.commit("initial")
        world.deploy(trigger_node("trigger/git_poll", {"url": str(repo.bare), "branch": "release"}))
        assert timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW) is False
        assert "branch 'release' was not found" in world.trigger().last_error


@pytest.fixture
def source_table():
    """A table in the machine's PostgreSQL (127.0.0.1:5432) or, failing that, the embedded one."""
    from tests.launch.conftest import listen_params

    candidates = ["postgresql://postgres@127.0.0.1:5432/postgres"]
    params = listen_params()
    candidates.append(
        psycopg.conninfo.make_conninfo(
            **{k: v for k, v in params.items() if k in {"host", "port", "user", "dbname", "password"}}
        )
    )
    for dsn in candidates:
        try:
            conn = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
            break
        except psycopg.OperationalError:
            continue
    else:
        pytest.skip("no PostgreSQL reachable for the database_row poller")
    table = f"launch_orders_{uuid.uuid4().hex[:8]}"
    conn.execute(
        f"CREATE TABLE {table} (id bigserial PRIMARY KEY, customer text, total numeric(10,2), placed_at timestamptz DEFAULT now())"
    )
    yield dsn, table, conn
    conn.execute(f"DROP TABLE {table}")
    conn.close()


class TestDatabaseRow:
    def test_new_rows_each_start_a_run_in_column_order(self, world, source_table):
        dsn, table, conn = source_table
        conn.execute(f"INSERT INTO {table} (customer, total) VALUES ('old', 1)")
        world.deploy(
            trigger_node(
                "trigger/database_row", {"connection": dsn, "table": table, "column": "id", "interval": 10}
            )
        )
        assert poll(world) == 0  # existing rows are not news
        conn.execute(f"INSERT INTO {table} (customer, total) VALUES ('ada', 12.50), ('bob', 7)")
        assert poll(world) == 2
        assert [e.trigger_data["customer"] for e in world.executions()] == ["ada", "bob"]
        assert world.executions()[0].trigger_data["row"]["total"] == "12.50"
        assert poll(world) == 0
        assert world.trigger().cursor == {"last": 3, "type": "plain"}

    def test_the_connection_string_never_shows_in_the_triggers_error(self, world, source_table):
        _, table, _ = source_table
        dsn = "postgresql://launch:hunter2-secret@127.0.0.1:5432/nope"
        world.deploy(
            trigger_node("trigger/database_row", {"connection": dsn, "table": table, "column": "id"})
        )
        timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW)
        trigger = world.trigger()
        assert trigger.last_error and "hunter2-secret" not in trigger.last_error
        assert "connection" not in trigger.config


class TestEmail:
    def test_new_matching_messages_each_start_a_run(self, world):
        with dovecot() as server:
            imap = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
            imap.login(server.user, server.password)

            def deliver(sender: str, subject: str, body: str) -> None:
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = sender, "alice@example.com", subject
                message.set_content(body)
                imap.append("INBOX", None, None, message.as_bytes())

            deliver("old@example.com", "Invoice 1", "already here")
            world.deploy(trigger_node("trigger/email", {
                "host": "127.0.0.1", "port": server.port, "security": "none", "username": server.user,
                "password": server.password, "subject_contains": "invoice", "interval": 30}))  # fmt: skip
            assert poll(world) == 0
            deliver("billing@example.com", "Invoice 2", "Please pay 12 EUR")
            deliver("friend@example.com", "Lunch?", "not an invoice subject")
            deliver("billing@example.com", "INVOICE 3", "Please pay 7 EUR")
            assert poll(world) == 2
            first, second = (e.trigger_data for e in world.executions())
            assert first["subject"] == "Invoice 2" and first["from"] == "billing@example.com"
            assert first["text"].strip() == "Please pay 12 EUR" and second["subject"] == "INVOICE 3"
            assert poll(world) == 0
            assert world.trigger().cursor["last_uid"] == 4
            imap.logout()

    def test_a_wrong_password_shows_as_the_triggers_error(self, world):
        with dovecot() as server:
            world.deploy(trigger_node("trigger/email", {"host": "127.0.0.1", "port": server.port, "security": "none",
                                                         "username": server.user, "password": "wrong-pass"}))  # fmt: skip
            timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW)
            error = world.trigger().last_error
            assert "refused the login" in error and "wrong-pass" not in error


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("amqp://guest:guest@127.0.0.1:5672//", "127.0.0.1", 5672),
        ("redis://127.0.0.1:6379/0", "127.0.0.1", 6379),
    ],
    ids=["rabbitmq", "redis"],
)
class TestQueue:
    def test_each_message_starts_a_run_and_is_acknowledged_after_the_commit(self, world, url, host, port):
        if not port_open(host, port):
            pytest.skip(f"no broker listening on {host}:{port}")
        name = f"launch-test-{uuid.uuid4().hex[:8]}"
        with Connection(url) as conn:
            queue = conn.SimpleQueue(name)
            queue.put({"order": 1})
            queue.put({"order": 2}, message_id="m-2")
            world.deploy(trigger_node("trigger/queue", {"broker_url": url, "queue": name, "interval": 5}))
            assert poll(world) == 2
            assert [e.trigger_data["body"] for e in world.executions()] == [{"order": 1}, {"order": 2}]
            assert poll(world) == 0  # acknowledged: nothing comes back
            assert world.trigger().cursor == {"received": 2}
            queue.clear()
            queue.close()

    def test_messages_go_back_to_the_queue_when_the_commit_fails(self, world, url, host, port):
        if not port_open(host, port):
            pytest.skip(f"no broker listening on {host}:{port}")
        name = f"launch-test-{uuid.uuid4().hex[:8]}"
        with Connection(url) as conn:
            queue = conn.SimpleQueue(name)
            queue.put({"order": 9}, message_id="m-9")
            world.deploy(trigger_node("trigger/queue", {"broker_url": url, "queue": name, "interval": 5}))
            Trigger.objects.filter(id=world.trigger().id).update(
                cursor_version=99
            )  # another process moved on
            stale = Trigger.objects.get(id=world.trigger().id)
            stale.cursor_version = 1
            assert poller_run(trigger=stale, now=NOW) == 0 and world.executions() == []
            assert poll(world) == 1  # the message was requeued and is read again
            queue.clear()
            queue.close()
