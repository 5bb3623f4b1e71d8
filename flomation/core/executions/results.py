"""Step events and final results reported under a lease: each a single compare-and-swap statement.

A report locks the execution by (id, lease_token, runner) and changes it only while its state is claimed or
running, stores the batch's steps (idempotent by attempt and sequence), keeps the runner's slot count and
notifies the execution's channel, all in one round trip; a lease that was taken over matches no row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from flomation.core.executions.channels import notify_execution_sql, notify_queue_sql
from flomation.core.executions.common import ProtocolError, as_uuid
from flomation.core.executions.steps import STEP_RECORD, progress_json, steps_json
from flomation.core.models import AiUsageDay, Execution, ExecutionState, ExecutionStep, Runner, Workflow
from flomation.core.services.notifications import execution_notify, notification_due
from flomation.core.signals import execution_suspended
from flomation.metrics import observe

logger = logging.getLogger(__name__)

RESULT_STATES = {
    "succeeded": ExecutionState.SUCCEEDED,
    "failed": ExecutionState.FAILED,
    "cancelled": ExecutionState.CANCELLED,
    "timed_out": ExecutionState.TIMED_OUT,
    "suspended": ExecutionState.SUSPENDED,
}


@dataclass(frozen=True)
class Report:
    """The outcome for one execution of a steps batch or a result: ok, duplicate (already stored), lost."""

    outcome: str
    cancel: bool = False
    state: str = ""


# The lease row, locked; `live` says whether it may still change (claimed or running).
_LEASED = """
leased AS (
    SELECT id, attempt, state, cancel_requested, workflow_id, trigger_type, created_at,
           state IN ('claimed', 'running') AS live
      FROM {execution} WHERE id = %(id)s AND lease_token = %(token)s AND runner_id = %(runner)s FOR UPDATE
),
steps AS (
    INSERT INTO {step} (execution_id, attempt, sequence, node_id, action, label, status, inputs, outputs,
                        error, duration_ms, iteration, retry, created_at)
    SELECT leased.id, leased.attempt, s.sequence, s.node_id, s.action, s.label, s.status, s.inputs, s.outputs,
           s.error, s.duration_ms, s.iteration,
           -- the node had started in an attempt whose runner was lost: this is it running again
           leased.attempt > 1 AND EXISTS (
               SELECT 1 FROM {step} p WHERE p.execution_id = leased.id AND p.attempt < leased.attempt
                  AND p.node_id = s.node_id AND p.iteration IS NOT DISTINCT FROM s.iteration),
           clock_timestamp()
      FROM leased, jsonb_to_recordset(%(steps)s::jsonb) AS s({step_record})
     WHERE leased.live
    ON CONFLICT (execution_id, attempt, sequence) DO NOTHING
)"""

_STEPS_SQL = (
    "WITH"
    + _LEASED
    + """,
running AS (
    UPDATE {execution} e
       SET state = 'running', started_at = CASE WHEN leased.state = 'claimed' THEN now() ELSE e.started_at END,
           progress = COALESCE(%(progress)s::jsonb, e.progress)
      FROM leased
     WHERE e.id = leased.id AND (leased.state = 'claimed' OR (leased.live AND %(progress)s::jsonb IS NOT NULL))
)
SELECT live, CASE WHEN state = 'claimed' THEN 'running' ELSE state END, cancel_requested,
       CASE WHEN live THEN {notify_leased} END,
       CASE WHEN state = 'claimed' THEN extract(epoch FROM clock_timestamp() - created_at) END
  FROM leased"""
)

_FINISH_SQL = (
    "WITH"
    + _LEASED
    + """,
finished AS (
    UPDATE {execution} e
       SET state = %(state)s, outputs = %(outputs)s::jsonb, node_results = %(node_results)s::jsonb,
           error = %(error)s, lease_expires_at = NULL,
           started_at = COALESCE(e.started_at, now() - make_interval(secs => %(ran_seconds)s)),
           finished_at = CASE WHEN %(suspended)s THEN e.finished_at ELSE now() END,
           checkpoint = CASE WHEN %(suspended)s THEN %(checkpoint)s::jsonb ELSE e.checkpoint END,
           progress = NULL,
           resume_at = CASE WHEN %(suspended)s THEN %(resume_at)s::timestamptz ELSE e.resume_at END,
           input_tokens = e.input_tokens + %(input_tokens)s, output_tokens = e.output_tokens + %(output_tokens)s
      FROM leased WHERE e.id = leased.id AND leased.live
    RETURNING e.id, e.organisation_id
),
usage AS (
    INSERT INTO {ai_usage} (organisation_id, day, input_tokens, output_tokens, executions)
    SELECT organisation_id, (now() AT TIME ZONE 'UTC')::date, %(input_tokens)s, %(output_tokens)s, 1
      FROM finished WHERE %(input_tokens)s + %(output_tokens)s > 0
    ON CONFLICT (organisation_id, day) DO UPDATE
       SET input_tokens = {ai_usage}.input_tokens + EXCLUDED.input_tokens,
           output_tokens = {ai_usage}.output_tokens + EXCLUDED.output_tokens,
           executions = {ai_usage}.executions + 1
),
slot AS (
    UPDATE {runner} SET slots_in_use = slots_in_use - 1
     WHERE id = %(runner)s AND slots_in_use > 0 AND EXISTS (SELECT 1 FROM finished)
)
SELECT leased.live, leased.state, w.notify_on_failure, w.notify_on_success,
       CASE WHEN leased.live THEN {notify_leased_id} END, leased.trigger_type,
       CASE WHEN leased.state = 'claimed' THEN extract(epoch FROM clock_timestamp() - leased.created_at) END
  FROM leased JOIN {workflow} w ON w.id = leased.workflow_id"""
)

_TABLES = {
    "execution": Execution._meta.db_table,
    "step": ExecutionStep._meta.db_table,
    "runner": Runner._meta.db_table,
    "workflow": Workflow._meta.db_table,
    "ai_usage": AiUsageDay._meta.db_table,
    "notify_leased": notify_execution_sql("id"),
    "notify_leased_id": notify_execution_sql("leased.id"),
    "notify_released": notify_execution_sql("id"),
    "notify_queue": notify_queue_sql("queue_id"),
    "step_record": STEP_RECORD,
}


def _lease_params(runner: Runner, execution_id: Any, lease_token: Any, events: Any) -> dict[str, Any] | None:
    token, execution_uuid = as_uuid(lease_token), as_uuid(execution_id)
    steps = steps_json(events or [])  # a malformed batch is refused before anything is written
    if token is None or execution_uuid is None:
        return None
    return {"id": execution_uuid, "token": token, "runner": runner.id, "steps": steps}


def execution_steps_record(
    *,
    runner: Runner,
    execution_id: Any,
    lease_token: Any,
    events: list[dict[str, Any]],
    progress: dict[str, Any] | None = None,
) -> Report:
    """Stores a batch of step events (idempotent by sequence) and marks the execution running.

    `progress` is the run's last checkpoint (after its last finished node): kept so that a new attempt
    after a lost runner goes on from it (see `claim`)."""
    params = _lease_params(runner, execution_id, lease_token, events)
    if params is None:
        return Report("lost")
    params["progress"] = progress_json(progress)
    with connection.cursor() as cursor:
        cursor.execute(_STEPS_SQL.format(**_TABLES), params)
        row = cursor.fetchone()
    if row is None or not row[0]:
        return Report("lost")
    if row[4] is not None:  # the first step: the execution started
        observe("trigger_to_start", float(row[4]))
    return Report("ok", cancel=bool(row[2]), state=row[1])


def execution_finish(
    *,
    runner: Runner,
    execution_id: Any,
    lease_token: Any,
    result: dict[str, Any],
    events: list[dict[str, Any]],
) -> Report:
    """Stores the final result (and the last steps) under the lease token; a repeat is a duplicate.

    Returns Report("lost") when the lease was taken over (the API answers 409). The outcome email is
    queued only when the workflow wants one for this outcome.
    """
    status = str(result.get("status") or "")
    if status not in RESULT_STATES:
        raise ProtocolError(
            400, "bad_status", f"The result status must be one of {', '.join(RESULT_STATES)}."
        )
    params = _lease_params(runner, execution_id, lease_token, events)
    if params is None:
        return Report("lost")
    state = RESULT_STATES[status]
    suspended = state == ExecutionState.SUSPENDED
    outputs, node_results = result.get("outputs"), result.get("node_results")
    params.update(
        state=state,
        outputs=json.dumps(outputs if isinstance(outputs, dict) else {}),
        node_results=json.dumps(node_results if isinstance(node_results, dict) else {}),
        error=str(result.get("error") or "")[:10000],
        # A run whose steps came with its result started when the executor says it did, not now.
        ran_seconds=_ran_seconds(result),
        suspended=suspended,
        checkpoint=json.dumps(result.get("checkpoint")) if suspended else None,
        resume_at=_resume_at(result) if suspended else None,
        **_usage(result),
    )
    with connection.cursor() as cursor:
        cursor.execute(_FINISH_SQL.format(**_TABLES), params)
        row = cursor.fetchone()
    if row is None:
        return Report("lost")
    live, previous, notify_on_failure, notify_on_success, _, trigger_type, waited = row
    if not live:
        return Report("duplicate", state=previous)
    if waited is not None:  # finished without a step reported first: it started now too
        observe("trigger_to_start", float(waited))
    if suspended:
        execution_id = params["id"]
        transaction.on_commit(lambda: _announce_suspension(execution_id))
    execution_finished_announce(
        execution_id=params["id"], state=state, trigger_type=trigger_type,
        notify_on_failure=notify_on_failure, notify_on_success=notify_on_success,
    )  # fmt: skip
    return Report("ok", state=state)


def execution_finished_announce(
    *, execution_id: Any, state: str, trigger_type: str, notify_on_failure: bool, notify_on_success: bool
) -> None:
    """What follows a stored result (a runner's, or an inline run's): the finished metric and, once the
    transaction commits, the outcome email when the workflow wants one for this outcome."""
    observe("finished", state=state, trigger_type=trigger_type or "")
    if notification_due(
        state=state, notify_on_failure=notify_on_failure, notify_on_success=notify_on_success
    ):
        transaction.on_commit(lambda: notify_outcome(execution_id))


def _announce_suspension(execution_id: Any) -> None:
    """Tells listeners (core.signals.execution_suspended) what the execution is waiting for. A listener that
    raises is logged and does not undo the report, which is already committed."""
    row = (
        Execution.objects.filter(id=execution_id, state=ExecutionState.SUSPENDED)
        .values("workflow_id", "environment_id", "trigger_data", "checkpoint")
        .first()
    )
    if row is None:
        return
    checkpoint = row["checkpoint"] if isinstance(row["checkpoint"], dict) else {}
    info = checkpoint.get("suspend_info")
    for receiver, outcome in execution_suspended.send_robust(
        sender=Execution,
        execution_id=execution_id,
        workflow_id=row["workflow_id"],
        environment_id=row["environment_id"],
        trigger_data=row["trigger_data"] or {},
        suspend_info=info if isinstance(info, dict) else {},
    ):
        if isinstance(outcome, Exception):
            logger.error("execution %s: %s failed on its suspension: %r", execution_id, receiver, outcome)


def _ran_seconds(result: dict[str, Any]) -> float:
    """How long the executor says the run took (bounded to a day; absent or malformed: 0)."""
    value = result.get("duration_ms")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return max(0.0, min(float(value), 86_400_000.0)) / 1000


def _usage(result: dict[str, Any]) -> dict[str, int]:
    """The model tokens a result reports (absent or malformed: none), each bounded to a sane count."""
    usage = result.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    counts = {}
    for name in ("input_tokens", "output_tokens"):
        value = usage.get(name)
        ok = isinstance(value, int) and not isinstance(value, bool)
        counts[name] = max(0, min(value, 2**31 - 1)) if ok else 0
    return counts


_RELEASE_SQL = """
WITH released AS (
    UPDATE {execution}
       SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
           finished_at = CASE WHEN cancel_requested THEN now() ELSE finished_at END,
           error = CASE WHEN cancel_requested THEN 'Cancelled before it ran.' ELSE error END,
           runner_id = CASE WHEN cancel_requested THEN runner_id END,
           lease_token = NULL, lease_expires_at = NULL, claimed_at = NULL, attempt = attempt - 1
     WHERE id = %(id)s AND lease_token = %(token)s AND runner_id = %(runner)s AND state = 'claimed'
    RETURNING id, queue_id, state
),
slot AS (
    UPDATE {runner} SET slots_in_use = slots_in_use - 1
     WHERE id = %(runner)s AND slots_in_use > 0 AND EXISTS (SELECT 1 FROM released)
)
SELECT state, CASE WHEN state = 'pending' THEN {notify_queue} END,
       {notify_released}
  FROM released"""


def execution_release(*, runner: Runner, execution_id: Any, lease_token: Any) -> Report:
    """Gives back an execution the runner claimed but never started (it is stopping): pending again, as
    if never claimed (the attempt is not used up), and its queue's runners are woken; one whose
    cancellation was asked for ends cancelled instead. Only a claimed execution can be released; anything
    else answers "lost" and changes nothing."""
    token, execution_uuid = as_uuid(lease_token), as_uuid(execution_id)
    if token is None or execution_uuid is None:
        return Report("lost")
    with connection.cursor() as cursor:
        cursor.execute(
            _RELEASE_SQL.format(**_TABLES), {"id": execution_uuid, "token": token, "runner": runner.id}
        )
        row = cursor.fetchone()
    return Report("lost") if row is None else Report("ok", state=row[0])


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


def notify_outcome(execution_id: Any) -> None:
    """Queues the outcome email; a failure to queue it is logged, never raised into the protocol."""
    try:
        execution_notify(execution_id=execution_id)
    except Exception:
        logger.exception("execution %s: the outcome notification could not be queued", execution_id)
