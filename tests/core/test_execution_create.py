"""execution_create: one statement stores the execution, wakes its queue and writes a caller's companion row."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from flomation.core import models as m
from flomation.core.executions.create import (
    CompanionInsert,
    ExecutionRefused,
    execution_create,
)
from tests.core import factories as f

NOTE = CompanionInsert(
    "INSERT INTO pg_temp.companion_note (execution_id, note, data) "
    "SELECT created_execution.id, %s, created_execution.trigger_data FROM created_execution",
    ("first",),
)


@pytest.fixture
def notes(db):
    """A table of the caller's own, as launch's invocations are, on the test's connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS companion_note (execution_id uuid, note text UNIQUE, data jsonb)"
        )
        cursor.execute("TRUNCATE pg_temp.companion_note")

    def rows() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT execution_id, note, data FROM pg_temp.companion_note ORDER BY note")
            return [(execution_id, note, json.loads(data)) for execution_id, note, data in cursor.fetchall()]

    return rows


@pytest.fixture
def deployed(cast):
    workflow = f.WorkflowFactory(organisation=cast.organisation, revisions=2)
    environment = cast.environment("production")
    deployment = m.Deployment.objects.create(
        workflow=workflow, environment=environment, revision=workflow.revisions.get(number=1)
    )
    return workflow, environment, deployment


def listen_connection() -> psycopg.Connection:
    """A connection of its own (autocommit) to the test database, for LISTEN and for looking from outside."""
    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if isinstance(value, str | int) and not isinstance(value, bool) and key != "prepare_threshold"
    }
    return psycopg.connect(**params, autocommit=True)


def _stored(execution_id: uuid.UUID) -> dict:
    row = m.Execution.objects.filter(id=execution_id).values().get()
    return {key: value for key, value in row.items() if key not in {"id", "created_at", "idempotency_key"}}


def test_it_stores_a_pending_execution_of_the_deployed_revision_with_the_model_defaults(deployed, notes):
    workflow, environment, deployment = deployed
    result = execution_create(
        workflow=workflow,
        trigger_type="webhook",
        trigger_data={"body": {"order": 42}},
        environment=environment,
        priority=3,
        entry_node="t1",
        idempotency_key="k1",
    )
    assert result.created
    stored = m.Execution.objects.get(id=result.execution.id)
    assert _stored(stored.id) == {
        **_stored(stored.id),
        "organisation_id": workflow.organisation_id,
        "workflow_id": workflow.id,
        "revision_id": deployment.revision_id,
        "environment_id": environment.id,
        "deployment_id": deployment.id,
        "queue_id": stored.queue_id,
        "state": "pending",
        "priority": 3,
        "trigger_type": "webhook",
        "trigger_data": {"body": {"order": 42}},
        "entry_node": "t1",
        "attempt": 0,
        "max_attempts": m.Execution._meta.get_field("max_attempts").default,
        "cancel_requested": False,
        "outputs": {},
        "node_results": {},
        "error": "",
        "runner_id": None,
        "lease_token": None,
        "checkpoint": None,
    }
    assert stored.revision.number == 1 and stored.idempotency_key == "k1"
    assert result.execution.created_at == stored.created_at
    assert result.execution.workflow is workflow and not result.execution._state.adding
    assert notes() == []


def test_the_companion_row_is_written_with_the_execution_and_reads_its_trigger_data(deployed, notes):
    workflow, environment, deployment = deployed
    result = execution_create(
        workflow=workflow,
        trigger_type="webhook",
        trigger_data={"body": [1, "two"]},
        environment=environment,
        deployment=deployment,
        companion=NOTE,
    )
    assert notes() == [(result.execution.id, "first", {"body": [1, "two"]})]


def test_a_repeated_idempotency_key_returns_the_first_execution_and_writes_no_companion(deployed, notes):
    workflow, environment, _ = deployed
    first = execution_create(
        workflow=workflow,
        trigger_type="webhook",
        environment=environment,
        idempotency_key="k",
        companion=NOTE,
    )
    again = execution_create(
        workflow=workflow,
        trigger_type="webhook",
        environment=environment,
        idempotency_key="k",
        companion=CompanionInsert(NOTE.sql, ("second",)),
    )
    assert first.created and not again.created
    assert again.execution.id == first.execution.id
    assert m.Execution.objects.filter(workflow=workflow).count() == 1
    assert [note for _, note, _ in notes()] == ["first"]


def test_a_failing_companion_stores_no_execution_and_leaves_the_callers_transaction_usable(deployed, notes):
    workflow, environment, _ = deployed
    with transaction.atomic():
        execution_create(workflow=workflow, trigger_type="webhook", environment=environment, companion=NOTE)
        with pytest.raises(IntegrityError):
            execution_create(
                workflow=workflow, trigger_type="webhook", environment=environment, companion=NOTE
            )
        assert m.Execution.objects.filter(workflow=workflow).count() == 1
    assert len(notes()) == 1


def test_it_refuses_a_workflow_without_a_saved_revision(cast):
    workflow = f.WorkflowFactory(organisation=cast.organisation, revisions=0)
    with pytest.raises(ExecutionRefused, match="no saved revision"):
        execution_create(workflow=workflow, trigger_type="manual")
    assert not m.Execution.objects.filter(workflow=workflow).exists()


def test_it_wakes_the_queue_on_commit_and_a_repeat_wakes_nobody(deployed, transactional_db):
    workflow, environment, _ = deployed
    with listen_connection() as listener:
        first = execution_create(
            workflow=workflow, trigger_type="webhook", environment=environment, idempotency_key="once"
        )
        channel = first.execution.queue.notify_channel
        listener.execute(f'LISTEN "{channel}"')
        second = execution_create(
            workflow=workflow, trigger_type="webhook", environment=environment, idempotency_key="twice"
        )
        woken = [n.channel for n in listener.notifies(timeout=5, stop_after=1)]
        execution_create(
            workflow=workflow, trigger_type="webhook", environment=environment, idempotency_key="twice"
        )
        repeat = list(listener.notifies(timeout=0.5, stop_after=1))
    assert second.created and woken == [channel] and repeat == []
    # Committed when the call returned: another connection sees the row.
    with listen_connection() as other:
        count = other.execute("SELECT count(*) FROM core_execution WHERE id = %s", [second.execution.id])
        assert count.fetchone() == (1,)
