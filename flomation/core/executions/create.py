"""Creating executions: the one entry point for the editor's Run, the API, launch's triggers and re-runs."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from flomation.core.executions.channels import EXECUTIONS, execution_key, notify_execution_sql
from flomation.core.executions.steps import STEP_RECORD
from flomation.core.models import (
    Account,
    Deployment,
    Environment,
    Execution,
    ExecutionStep,
    Queue,
    Revision,
    Workflow,
)
from flomation.core.services.queues import queue_shared
from flomation.metrics import observe

if TYPE_CHECKING:
    from flomation.core.executions.inline import InlineRun


class ExecutionRefused(Exception):
    """The execution cannot be created; the message says why and what to do."""


@dataclass(frozen=True)
class Created:
    execution: Execution
    created: bool  # False when an idempotency key matched an earlier execution


def execution_queue(*, workflow: Workflow) -> Queue:
    """The queue a workflow's runs go to: its own, else the platform's shared queue when accepted."""
    if workflow.queue_id:
        return workflow.queue  # type: ignore[return-value]
    if not workflow.organisation.accept_shared_runners:
        raise ExecutionRefused(
            "This organisation does not accept shared runners and the workflow has no queue: "
            "choose a queue for the workflow."
        )
    return queue_shared()


def notify_queue(queue: Queue) -> None:
    """Wakes runners long-polling this queue once the surrounding transaction commits (NOTIFY is transactional)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [queue.notify_channel])


@dataclass(frozen=True)
class CompanionInsert:
    """A caller's own INSERT, run in the same SQL statement as a new execution's (launch's invocation row).

    `sql` is `INSERT INTO <the caller's table> (...) SELECT ... FROM created_execution`: it may read
    `created_execution.id` and `created_execution.trigger_data` (the stored trigger data, so the caller
    need not serialise it again), and inserts nothing when an idempotency key matched an earlier
    execution. `params` fill its `%s` placeholders, in order.
    """

    sql: str
    params: Sequence[Any] = ()


def execution_create(
    *,
    workflow: Workflow,
    trigger_type: str,
    trigger_data: dict[str, Any] | None = None,
    revision: Revision | None = None,
    environment: Environment | None = None,
    deployment: Deployment | None = None,
    created_by: Account | None = None,
    idempotency_key: str | None = None,
    priority: int = 0,
    entry_node: str = "",
    rerun_of: Execution | None = None,
    companion: CompanionInsert | None = None,
    inline: InlineRun | None = None,
) -> Created:
    """Creates a pending execution and wakes the queue's runners, in one database round trip.

    The revision defaults to the environment's current deployment, else the workflow's latest revision.
    With an idempotency key, a repeat returns the first execution and creates nothing. The execution's
    INSERT, the queue's NOTIFY and an optional companion INSERT (launch's invocation row) are one SQL
    statement, so they commit together or not at all, and ingress pays one round trip: outside
    a transaction the statement is its own transaction, committed when this returns; inside one it runs
    under a savepoint and commits with it. A duplicate idempotency key
    creates, notifies and companion-inserts nothing and returns the earlier execution (one more query).
    An IntegrityError from the companion (its own unique constraints) propagates with nothing stored.
    Unlike the ORM's create, no pre_save/post_save signal is sent; nothing listens for Execution's.

    With `inline` (a run that already happened here, see `inline`) the execution is stored as it ended,
    with its steps, and only its watchers are woken; one handed off past its budget is stored pending with
    its progress, and the queue's runners are woken as usual.
    """
    revision, deployment = _revision_to_run(
        workflow=workflow, revision=revision, environment=environment, deployment=deployment
    )
    queue = execution_queue(workflow=workflow)
    related = {
        "workflow": workflow,
        "revision": revision,
        "environment": environment,
        "deployment": deployment,
        "queue": queue,
        "created_by": created_by,
        "rerun_of": rerun_of,
    }
    given = {
        "organisation_id": workflow.organisation_id,
        "priority": priority,
        "trigger_type": trigger_type,
        "trigger_data": trigger_data or {},
        "entry_node": entry_node,
        "idempotency_key": idempotency_key or None,
        **{f"{name}_id": None if value is None else value.pk for name, value in related.items()},
        **(inline.columns() if inline is not None else {}),
    }
    # Positional construction (as when loading from the database) skips the keyword path's per-field
    # descriptor work; every other field takes its model default, as with Execution.objects.create.
    execution = Execution(*(given[f.attname] if f.attname in given else f.get_default() for f in _FIELDS))
    for name, value in related.items():
        if value is not None:
            _RELATIONS[name].set_cached_value(execution, value)
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: `connection` is a proxy, dear per attribute
    values = [field.get_db_prep_save(field.pre_save(execution, True), db) for field in _FIELDS]
    # NULLs are written into the statement (one cached text per pattern of empty columns): most of an
    # execution's columns are empty when it is created, and quoting parameters is most of this call's cost.
    nulls = tuple(value is None for value in values)
    params = [value for value in values if value is not None]
    if companion is not None:
        params.extend(companion.params)
    ran = inline is not None and not inline.handed_off
    if inline is not None:
        params.append(inline.steps)
    if not ran:
        params.append(queue.notify_channel)
    nested = transaction.atomic() if db.in_atomic_block else contextlib.nullcontext()
    statement = _insert_statement(nulls, companion.sql if companion else "", inline is not None, ran)
    with nested, db.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:  # the idempotency key matched: the conflict left everything untouched
        earlier = Execution.objects.filter(
            organisation_id=workflow.organisation_id, idempotency_key=idempotency_key
        ).first()
        if earlier is None:  # deleted between the two statements (retention): create it afresh
            return execution_create(
                workflow=workflow, trigger_type=trigger_type, trigger_data=trigger_data,
                revision=revision, environment=environment, deployment=deployment, created_by=created_by,
                idempotency_key=idempotency_key, priority=priority, entry_node=entry_node,
                rerun_of=rerun_of, companion=companion, inline=inline,
            )  # fmt: skip
        return Created(earlier, False)
    execution._state.adding = False
    execution._state.db = db.alias
    transaction.on_commit(lambda: observe("created", trigger_type=trigger_type), using=db.alias)
    return Created(execution, True)


_FIELDS = tuple(Execution._meta.concrete_fields)
_RELATIONS = {field.name: field for field in _FIELDS if field.is_relation}


@lru_cache(maxsize=64)
def _insert_statement(
    nulls: tuple[bool, ...], companion_sql: str, steps: bool = False, ran: bool = False
) -> str:
    """INSERT ... ON CONFLICT on the idempotency constraint, the companion, the steps of an inline run, then
    per inserted row a NOTIFY: to the queue's runners, or (a run that already ended) to its watchers.

    pg_notify sits in the final SELECT over the inserted rows, so a conflict (no row) notifies nobody.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _FIELDS)
    placeholders = ", ".join("NULL" if null else "%s" for null in nulls)
    companion = f", companion AS ({companion_sql})" if companion_sql else ""
    if steps:
        companion += f""", steps AS (
            INSERT INTO {quote(ExecutionStep._meta.db_table)} (execution_id, attempt, sequence, node_id, action,
                   label, status, inputs, outputs, error, duration_ms, iteration, retry, created_at)
            SELECT created_execution.id, 1, s.sequence, s.node_id, s.action, s.label, s.status, s.inputs,
                   s.outputs, s.error, s.duration_ms, s.iteration, false, clock_timestamp()
              FROM created_execution, jsonb_to_recordset(%s::jsonb) AS s({STEP_RECORD}))"""
    wake = notify_execution_sql("created_execution.id") if ran else "pg_notify(%s, '')"
    return (
        f"WITH created_execution AS (INSERT INTO {quote(Execution._meta.db_table)} ({columns}) "
        f"VALUES ({placeholders}) ON CONFLICT (organisation_id, idempotency_key) "
        "WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id, trigger_data)"
        f"{companion} SELECT created_execution.id, {wake} FROM created_execution"
    )


def _revision_to_run(
    *,
    workflow: Workflow,
    revision: Revision | None,
    environment: Environment | None,
    deployment: Deployment | None,
) -> tuple[Revision, Deployment | None]:
    """The revision (and deployment) a new execution runs; refuses when the workflow has none saved."""
    if revision is None and environment is not None and deployment is None:
        deployment = (
            Deployment.objects.select_related("revision")
            .filter(workflow=workflow, environment=environment, is_current=True)
            .first()
        )
    if revision is None and deployment is not None:
        revision = deployment.revision
    if revision is None:
        revision = workflow.revisions.order_by("-number").first()
    if revision is None:
        raise ExecutionRefused("The workflow has no saved revision yet: save it before running it.")
    return revision, deployment


def notify_execution(execution_id: Any) -> None:
    """Wakes everyone streaming this execution, once the surrounding transaction commits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [EXECUTIONS, execution_key(execution_id)])
