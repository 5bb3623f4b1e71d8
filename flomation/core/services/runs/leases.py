"""Claim, heartbeat, steps, result and lease recovery of executions run by runners."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from flomation.core.models import Execution, ExecutionState, Organisation, Queue, Runner
from flomation.core.services.executions import notify_execution, notify_queue
from flomation.core.services.runs.common import LEASED, ProtocolError, as_uuid, lease_seconds
from flomation.core.services.runs.steps import steps_record

logger = logging.getLogger(__name__)

RESULT_STATES = {
    "succeeded": ExecutionState.SUCCEEDED,
    "failed": ExecutionState.FAILED,
    "cancelled": ExecutionState.CANCELLED,
    "timed_out": ExecutionState.TIMED_OUT,
    "suspended": ExecutionState.SUSPENDED,
}


# --- claim ------------------------------------------------------------------------------------------


def runner_poll_channel(runner_id: Any) -> str:
    """The channel that ends a runner's older long polls (payload: the id of the poll that stays)."""
    return f"flomation_r_{getattr(runner_id, 'hex', str(runner_id).replace('-', ''))}"


def runner_poll_supersede(*, runner: Runner, poll_id: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [runner_poll_channel(runner.id), poll_id])


def runner_channels(*, runner: Runner) -> list[str]:
    """The NOTIFY channels of the queues whose work this runner may take (its queue and descendants)."""
    ids = _eligible_queue_ids(runner.queue_id)
    return [Queue(id=queue_id).notify_channel for queue_id in ids]


def _eligible_queue_ids(queue_id: Any) -> list[uuid.UUID]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH RECURSIVE q(id) AS (
                    SELECT %s::uuid UNION SELECT c.id FROM {Queue._meta.db_table} c JOIN q ON c.parent_id = q.id
                ) SELECT id FROM q""",
            [queue_id],
        )
        return [row[0] for row in cursor.fetchall()]


_CLAIM_SQL = """
WITH RECURSIVE eligible(id) AS (
    SELECT r.queue_id FROM {runner} r WHERE r.id = %(runner)s AND r.enabled
    UNION
    SELECT c.id FROM {queue} c JOIN eligible ON c.parent_id = eligible.id
),
picked AS (
    SELECT x.id FROM {execution} x
    JOIN eligible ON eligible.id = x.queue_id
    JOIN {queue} q ON q.id = x.queue_id
    JOIN {organisation} o ON o.id = x.organisation_id
    WHERE x.state = 'pending' AND NOT x.cancel_requested
      AND (q.organisation_id IS NOT NULL OR o.accept_shared_runners)
    ORDER BY x.priority, x.created_at
    LIMIT %(limit)s
    FOR UPDATE OF x SKIP LOCKED
)
UPDATE {execution} e
   SET state = 'claimed', runner_id = %(runner)s, attempt = e.attempt + 1, lease_token = gen_random_uuid(),
       lease_expires_at = now() + make_interval(secs => %(lease)s), claimed_at = now()
  FROM picked WHERE e.id = picked.id
RETURNING e.id
"""


def execution_claim(*, runner: Runner, limit: int, slots_total: int | None = None) -> list[dict[str, Any]]:
    """Claims up to `limit` eligible pending executions for `runner` in one statement; returns the jobs.

    Eligible: on the runner's queue or one of its descendants; on the shared queue (no organisation) only
    for organisations that accept shared runners. Order: priority, then age.
    """
    limit = max(0, min(int(limit), 100))
    ids: list[uuid.UUID] = []
    if limit:
        sql = _CLAIM_SQL.format(
            runner=Runner._meta.db_table,
            queue=Queue._meta.db_table,
            execution=Execution._meta.db_table,
            organisation=Organisation._meta.db_table,
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, {"runner": runner.id, "limit": limit, "lease": lease_seconds()})
            ids = [row[0] for row in cursor.fetchall()]
            for execution_id in ids:
                notify_execution(execution_id)
    now = timezone.now()
    updates: dict[str, Any] = {"last_contact_at": now}
    if ids:
        updates["last_claim_at"] = now
        updates["slots_in_use"] = F("slots_in_use") + len(ids)
    if slots_total:
        updates["slots_total"] = max(1, min(int(slots_total), 1000))
    Runner.objects.filter(id=runner.id).update(**updates)
    if not ids:
        return []
    executions = (
        Execution.objects.filter(id__in=ids)
        .select_related("revision", "workflow", "environment", "created_by", "revision__author")
        .order_by("priority", "created_at")
    )
    return [_job(execution, runner) for execution in executions]


def _job(execution: Execution, runner: Runner) -> dict[str, Any]:
    revision = execution.revision
    author = revision.author
    context = {
        "flow_id": str(execution.workflow_id),
        "flow_name": execution.workflow.name,
        "execution_id": str(execution.id),
        "organisation_id": str(execution.organisation_id),
        "runner_id": str(runner.id),
        "revision": revision.number,
        "attempt": execution.attempt,
        "start_time": (execution.claimed_at or timezone.now()).isoformat(),
        "trigger_type": execution.trigger_type,
        "author_id": str(author.id) if author else "",
        "author_email": author.email if author else "",
        "triggerer_email": execution.created_by.email if execution.created_by else "",
        "environment": execution.environment.name if execution.environment else "",
        "environment_id": str(execution.environment_id or ""),
        "api_url": settings.API_URL,
    }
    return {
        "id": str(execution.id),
        "lease_token": str(execution.lease_token),
        "lease_seconds": lease_seconds(),
        "attempt": execution.attempt,
        "flow": revision.flow,
        "trigger_data": execution.trigger_data,
        "context": context,
        "entry": execution.entry_node or None,
        "checkpoint": execution.checkpoint,
        "resume_data": execution.resume_data,
    }


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


@dataclass(frozen=True)
class Report:
    """The outcome for one execution of a steps batch or a result: ok, duplicate (already stored), lost."""

    outcome: str
    cancel: bool = False
    state: str = ""


def _leased(runner: Runner, execution_id: Any, lease_token: Any) -> Execution | None:
    """Locks and returns the execution if `lease_token` is its current lease (any state), else None."""
    token = as_uuid(lease_token)
    execution_uuid = as_uuid(execution_id)
    if token is None or execution_uuid is None:
        return None
    return (
        Execution.objects.select_for_update(of=("self",))
        .only(
            "id", "state", "attempt", "lease_token", "runner_id", "cancel_requested", "started_at", "queue_id"
        )
        .filter(id=execution_uuid, lease_token=token, runner_id=runner.id)
        .first()
    )


def execution_steps_record(
    *, runner: Runner, execution_id: Any, lease_token: Any, events: list[dict[str, Any]]
) -> Report:
    """Stores a batch of step events (idempotent by sequence) and marks the execution running."""
    with transaction.atomic():
        execution = _leased(runner, execution_id, lease_token)
        if execution is None or execution.state not in LEASED:
            return Report("lost")
        steps_record(execution=execution, events=events)
        if execution.state == ExecutionState.CLAIMED:
            execution.state = ExecutionState.RUNNING
            execution.started_at = timezone.now()
            execution.save(update_fields=["state", "started_at"])
        notify_execution(execution.id)
        return Report("ok", cancel=execution.cancel_requested, state=execution.state)


def execution_finish(
    *,
    runner: Runner,
    execution_id: Any,
    lease_token: Any,
    result: dict[str, Any],
    events: list[dict[str, Any]],
) -> Report:
    """Stores the final result under the lease token; a repeat of an accepted result is a duplicate.

    Returns Report("lost") when the lease was taken over (the API answers 409).
    """
    status = str(result.get("status") or "")
    if status not in RESULT_STATES:
        raise ProtocolError(
            400, "bad_status", f"The result status must be one of {', '.join(RESULT_STATES)}."
        )
    with transaction.atomic():
        execution = _leased(runner, execution_id, lease_token)
        if execution is None:
            return Report("lost")
        if execution.state not in LEASED:
            return Report("duplicate", state=execution.state)
        steps_record(execution=execution, events=events)
        state = RESULT_STATES[status]
        now = timezone.now()
        fields: dict[str, Any] = {
            "state": state,
            "outputs": result.get("outputs") if isinstance(result.get("outputs"), dict) else {},
            "node_results": result.get("node_results")
            if isinstance(result.get("node_results"), dict)
            else {},
            "error": str(result.get("error") or "")[:10000],
            "lease_expires_at": None,
            "started_at": execution.started_at or now,
        }
        if state == ExecutionState.SUSPENDED:
            fields["checkpoint"] = result.get("checkpoint")
            fields["resume_at"] = _resume_at(result)
        else:
            fields["finished_at"] = now
        Execution.objects.filter(id=execution.id).update(**fields)
        Runner.objects.filter(id=runner.id, slots_in_use__gt=0).update(slots_in_use=F("slots_in_use") - 1)
        notify_execution(execution.id)
        if state != ExecutionState.SUSPENDED:
            transaction.on_commit(lambda: _notify_outcome(execution.id))
        return Report("ok", state=state)


def _resume_at(result: dict[str, Any]) -> dt.datetime | None:
    checkpoint = result.get("checkpoint") if isinstance(result.get("checkpoint"), dict) else {}
    value = result.get("resume_at") or checkpoint.get("resume_at")
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _notify_outcome(execution_id: Any) -> None:
    from flomation.core.services.notifications import execution_notify

    try:
        execution_notify(execution_id=execution_id)
    except Exception:
        logger.exception("execution %s: the outcome notification could not be queued", execution_id)


def execution_lookup_value(
    *, runner: Runner, execution_id: Any, lease_token: Any, kind: str, name: str
) -> str | None:
    """A secret or variable of the execution's environment, for the runner holding its lease."""
    from flomation.core.services.secrets import secret_reveal, variable_value

    token, execution_uuid = as_uuid(lease_token), as_uuid(execution_id)
    environment_id = (
        Execution.objects.filter(id=execution_uuid, lease_token=token, runner_id=runner.id, state__in=LEASED)
        .values_list("environment_id", flat=True)
        .first()
        if token and execution_uuid
        else None
    )
    if environment_id is None:
        return None
    reveal = secret_reveal if kind == "secret" else variable_value
    return reveal(environment_id=environment_id, name=name)


# --- lease recovery -------------------------------------------------------------------------------


def executions_reclaim_expired(*, limit: int = 100) -> int:
    """Expired leases go back to pending (another attempt) or fail after max_attempts; returns how many."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""WITH expired AS (
                    SELECT id FROM {Execution._meta.db_table}
                     WHERE state IN ('claimed', 'running') AND lease_expires_at < now()
                     ORDER BY lease_expires_at LIMIT %s FOR UPDATE SKIP LOCKED)
                UPDATE {Execution._meta.db_table} e
                   SET state = CASE WHEN e.attempt < e.max_attempts THEN 'pending' ELSE 'failed' END,
                       error = CASE WHEN e.attempt < e.max_attempts THEN e.error ELSE %s END,
                       finished_at = CASE WHEN e.attempt < e.max_attempts THEN NULL ELSE now() END,
                       lease_token = NULL, lease_expires_at = NULL
                  FROM expired WHERE e.id = expired.id
              RETURNING e.id, e.state, e.queue_id, e.runner_id, e.attempt""",
            [
                limit,
                "The runner running this execution stopped reporting (it was stopped, lost its network or "
                "crashed) and every allowed attempt has been used. Check the runner, then run it again.",
            ],
        )
        rows = cursor.fetchall()
        for execution_id, state, queue_id, _runner_id, attempt in rows:
            logger.warning("execution %s: lease expired on attempt %s; now %s", execution_id, attempt, state)
            notify_execution(execution_id)
            if state == ExecutionState.PENDING:
                notify_queue(Queue(id=queue_id))
            else:
                transaction.on_commit(lambda execution_id=execution_id: _notify_outcome(execution_id))
        runner_ids = {row[3] for row in rows if row[3]}
        for runner_id in runner_ids:
            Runner.objects.filter(id=runner_id).update(
                slots_in_use=Execution.objects.filter(runner_id=runner_id, state__in=LEASED).count()
            )
    return len(rows)
