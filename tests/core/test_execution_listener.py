"""The process's one listener: it wakes exactly the waiters of an execution, listens again after the
database dropped its connection (waking every waiter to look again), and `execution_wait_finished` built
on it answers with a finished execution's outcome."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from flomation.core.executions.channels import EXECUTIONS, execution_key
from flomation.core.executions.listener import Listener, listen_params, listener
from flomation.core.executions.waits import execution_wait_finished
from tests.core import factories as f


def notify(execution_id: uuid.UUID) -> None:
    with psycopg.connect(**listen_params(), autocommit=True) as conn:
        conn.execute("SELECT pg_notify(%s, %s)", [EXECUTIONS, execution_key(execution_id)])


@pytest.fixture
def own_listener(transactional_db):
    made = Listener(wait_slots=4)
    yield made
    made.close()


def test_a_notification_wakes_the_waiters_of_that_execution_and_no_other(own_listener):
    watched, other = uuid.uuid4(), uuid.uuid4()
    first = own_listener.subscribe(executions=[execution_key(watched)])
    second = own_listener.subscribe(executions=[execution_key(watched)])
    bystander = own_listener.subscribe(executions=[execution_key(other)])
    notify(watched)
    assert first.wait(5) and second.wait(5)
    assert not bystander.wait(0.3)


def test_after_losing_its_connection_it_listens_again_and_every_waiter_looks_again(own_listener):
    watched = uuid.uuid4()
    waiter = own_listener.subscribe(executions=[execution_key(watched)])
    with psycopg.connect(**listen_params(), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query ILIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
        ).fetchall()
    assert killed == [(True,)]
    assert waiter.wait(10) and waiter.reconnects == 1  # woken to re-check what it waits for
    notify(watched)  # and later notifications arrive again, on the new connection
    assert waiter.wait(5)


def test_a_waiter_gets_the_outcome_of_an_execution_another_process_finishes(transactional_db):
    execution = f.ExecutionFactory(state="running")
    got: dict[str, object] = {}
    waiting = threading.Thread(
        target=lambda: got.update(outcome=execution_wait_finished(execution_id=execution.id, timeout=10))
    )
    started = time.monotonic()
    waiting.start()
    time.sleep(0.5)  # past the moment the wait gives its database connection back
    with psycopg.connect(**listen_params(), autocommit=True) as conn:
        conn.execute(
            "UPDATE core_execution SET state = 'succeeded', outputs = '{\"total\": 3}', finished_at = now() "
            "WHERE id = %s",
            [execution.id],
        )
        conn.execute("SELECT pg_notify(%s, %s)", [EXECUTIONS, execution_key(execution.id)])
    waiting.join(10)
    assert got["outcome"].state == "succeeded" and got["outcome"].outputs == {"total": 3}
    assert time.monotonic() - started < 5  # woken by the notification, not by a periodic re-check


def test_a_wait_for_an_execution_that_does_not_finish_ends_at_its_timeout(transactional_db):
    execution = f.ExecutionFactory(state="running")
    started = time.monotonic()
    assert execution_wait_finished(execution_id=execution.id, timeout=0.6) is None
    assert 0.5 < time.monotonic() - started < 3
    assert listener().waits_in_progress() == 0
