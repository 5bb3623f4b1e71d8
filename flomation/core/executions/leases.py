"""Heartbeats, secret lookups and lease recovery of executions run by runners."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from flomation.core.executions.common import LEASED, as_uuid, lease_seconds
from flomation.core.executions.create import notify_execution, notify_queue
from flomation.core.executions.results import notify_outcome
from flomation.core.models import Execution, ExecutionState, Queue, Runner
from flomation.metrics import observe

logger = logging.getLogger(__name__)

# --- while running --------------------------------------------------------------------------------


def execution_heartbeat(
    *, runner: Runner, leases: list[tuple[str, str]], busy: int | None = None
) -> dict[str, dict[str, Any]]:
    """Extends the leases this runner still holds; returns {id: {"lost": bool, "cancel": bool}}.

    "lost" means the execution is no longer this runner's to run (taken over, finished or deleted): stop
    it and report nothing more. "cancel" means a user asked to stop it.
    """
    answer: dict[str, dict[str, Any]] = {
        str(execution_id): {"lost": True, "cancel": False} for execution_id, _ in leases
    }
    tokens = [as_uuid(token) for _, token in leases]
    with connection.cursor() as cursor:
        if leases:
            # Rows are locked in id order, as a report locks them, so the two never deadlock.
            cursor.execute(
                f"""WITH held AS (
                        SELECT id FROM {Execution._meta.db_table}
                         WHERE runner_id = %s AND lease_token = ANY(%s::uuid[]) AND state IN ('claimed', 'running')
                         ORDER BY id FOR UPDATE)
                    UPDATE {Execution._meta.db_table} e
                       SET lease_expires_at = now() + make_interval(secs => %s)
                      FROM held WHERE e.id = held.id
                 RETURNING e.id, e.cancel_requested""",
                [runner.id, [token for token in tokens if token], lease_seconds()],
            )
            for execution_id, cancel in cursor.fetchall():
                answer[str(execution_id)] = {"lost": False, "cancel": bool(cancel)}
    updates: dict[str, Any] = {"last_contact_at": timezone.now()}
    if busy is not None:
        updates["slots_in_use"] = max(0, int(busy))
    Runner.objects.filter(id=runner.id).update(**updates)
    return answer


def _leased(runner: Runner, execution_id: Any, lease_token: Any) -> tuple[Any, Any, Any] | None:
    """(execution id, organisation id, environment id) of an execution this runner holds the lease of."""
    scope = execution_lease_scope(runner=runner, execution_id=execution_id, lease_token=lease_token)
    return (as_uuid(execution_id), *scope) if scope else None


def execution_lookup_value(
    *, runner: Runner, execution_id: Any, lease_token: Any, kind: str, name: str
) -> str | None:
    """A secret or variable of the execution's environment, for the runner holding its lease."""
    found = _leased(runner, execution_id, lease_token)
    if found is None:
        return None
    execution_uuid, organisation_id, environment_id = found
    return environment_value(
        runner=runner, execution_id=execution_uuid, organisation_id=organisation_id,
        environment_id=environment_id, kind=kind, name=name,
    )  # fmt: skip


def environment_value(
    *, runner: Runner, execution_id: Any, organisation_id: Any, environment_id: Any, kind: str, name: str
) -> str | None:
    """A secret or variable of an execution's environment, read for `runner`; a secret read is audited
    (its name and the execution, never the value)."""
    from flomation.core.services.secrets import secret_reveal, variable_value

    if kind != "secret":
        return variable_value(environment_id=environment_id, name=name)
    value = secret_reveal(environment_id=environment_id, name=name)
    if value is not None:
        _use_audited(runner, "secret.used", execution_id, name, organisation_id, environment_id)
    return value


def _use_audited(
    runner: Runner, action: str, execution_id: Any, name: str, organisation_id: Any, environment_id: Any
) -> None:
    """An execution read a secret or a connection: its name and the execution, never the value."""
    from flomation.core.services.audit import actor_for_runner, audit_record

    audit_record(
        action=action,
        organisation_id=organisation_id,
        target_type="execution",
        target_id=execution_id,
        related=[environment_id],
        summary={"name": name, "environment": str(environment_id)},
        actor=actor_for_runner(runner),
    )


def execution_lease_scope(*, runner: Runner, execution_id: Any, lease_token: Any) -> tuple[Any, Any] | None:
    """(organisation id, environment id) of an execution the runner holds the lease of, else None."""
    token, execution_uuid = as_uuid(lease_token), as_uuid(execution_id)
    if not token or not execution_uuid:
        return None
    return (
        Execution.objects.filter(id=execution_uuid, lease_token=token, runner_id=runner.id, state__in=LEASED)
        .values_list("organisation_id", "environment_id")
        .first()
    )


def execution_lookup_connection(
    *, runner: Runner, execution_id: Any, lease_token: Any, name: str
) -> dict[str, Any] | None:
    """{type, fields} of the connection `name` for the execution's organisation and environment (the
    environment's own one wins over one for all environments), for the runner holding its lease."""
    from flomation.core.services.connections import connection_resolve

    found = _leased(runner, execution_id, lease_token)
    if found is None:
        return None
    execution_uuid, organisation_id, environment_id = found
    resolved = connection_resolve(organisation_id=organisation_id, environment_id=environment_id, name=name)
    if resolved is not None:
        _use_audited(runner, "connection.used", execution_uuid, name, organisation_id, environment_id)
    return resolved


# --- lease recovery -------------------------------------------------------------------------------


def executions_reclaim_expired(*, limit: int = 100) -> int:
    """Expired leases go back to pending (another attempt), fail after max_attempts, or end cancelled when a
    cancellation was asked for; returns how many."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""WITH expired AS (
                    SELECT id FROM {Execution._meta.db_table}
                     WHERE state IN ('claimed', 'running') AND lease_expires_at < now()
                     ORDER BY lease_expires_at LIMIT %s FOR UPDATE SKIP LOCKED)
                UPDATE {Execution._meta.db_table} e
                   SET state = CASE WHEN e.cancel_requested THEN 'cancelled'
                                    WHEN e.attempt < e.max_attempts THEN 'pending' ELSE 'failed' END,
                       error = CASE WHEN e.cancel_requested THEN %s
                                    WHEN e.attempt < e.max_attempts THEN e.error ELSE %s END,
                       finished_at = CASE WHEN e.cancel_requested OR e.attempt >= e.max_attempts
                                          THEN now() ELSE NULL END,
                       lease_token = NULL, lease_expires_at = NULL
                  FROM expired WHERE e.id = expired.id
              RETURNING e.id, e.state, e.queue_id, e.runner_id, e.attempt""",
            [
                limit,
                # A cancelled execution whose runner vanished is not run again: the claim skips it.
                "Cancelled. Its runner stopped reporting before confirming the cancellation.",
                "The runner running this execution stopped reporting (it was stopped, lost its network or "
                "crashed) and every allowed attempt has been used. Check the runner, then run it again.",
            ],
        )
        rows = cursor.fetchall()
        for execution_id, state, queue_id, _runner_id, attempt in rows:
            logger.warning("execution %s: lease expired on attempt %s; now %s", execution_id, attempt, state)
            observe("lease_reclaims", state=state)
            notify_execution(execution_id)
            if state == ExecutionState.PENDING:
                notify_queue(Queue(id=queue_id))
            else:
                transaction.on_commit(lambda execution_id=execution_id: notify_outcome(execution_id))
        runner_ids = {row[3] for row in rows if row[3]}
        for runner_id in runner_ids:
            Runner.objects.filter(id=runner_id).update(
                slots_in_use=Execution.objects.filter(runner_id=runner_id, state__in=LEASED).count()
            )
    return len(rows)
