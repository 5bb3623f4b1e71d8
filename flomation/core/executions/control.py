"""What people do to executions: run now, cancel, re-run, resume; and the api role's upkeep of them.

Creation itself goes through create.execution_create (one transaction with the NOTIFY).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from flomation.core.executions.create import (
    Created,
    execution_create,
    notify_execution,
    notify_queue,
)
from flomation.core.models import (
    Account,
    Deployment,
    Environment,
    Execution,
    ExecutionState,
    Revision,
    Workflow,
    WorkflowState,
)
from flomation.core.services.errors import Conflict
from flomation.core.services.inputs import input_schema, inputs_validate, manual_trigger_node


def execution_run_now(
    *,
    workflow: Workflow,
    environment: Environment | None,
    inputs: dict[str, Any] | None,
    created_by: Account | None,
    idempotency_key: str | None = None,
    node_id: str | None = None,
    latest_revision: Revision | None = None,
) -> Created:
    """Runs a workflow by hand ("run now"), its inputs checked against the manual trigger's input schema.

    In an environment the current deployment's revision runs (the workflow must be deployed there and not
    paused); with no environment the latest revision runs as a test (`latest_revision` when the caller
    has already read it with the workflow).
    """
    if workflow.state == WorkflowState.ARCHIVED:
        raise Conflict("The workflow is archived; restore it before running it.")
    deployment = None
    if environment is not None:
        if environment.organisation_id != workflow.organisation_id:
            raise Conflict("The environment belongs to another organisation.")
        if workflow.state == WorkflowState.PAUSED:
            raise Conflict("The workflow is paused; activate it before running it in an environment.")
        deployment = (
            Deployment.objects.select_related("revision")
            .filter(workflow=workflow, environment=environment, is_current=True)
            .first()
        )
        if deployment is None:
            raise Conflict(f"The workflow is not deployed to {environment.name}; deploy it first.")
        revision = deployment.revision
    elif latest_revision is not None and latest_revision.workflow_id == workflow.id:
        revision = latest_revision
    else:
        revision = workflow.revisions.order_by("-number").first()
        if revision is None:
            raise Conflict("The workflow has no saved revision yet: save it before running it.")
    trigger = manual_trigger_node(flow=revision.flow, node_id=node_id)
    if node_id and trigger is None:
        raise Conflict(f"The flow has no manual trigger with id {node_id!r}.")
    checked = inputs_validate(schema=input_schema(node=trigger), inputs=inputs)
    if trigger is not None:
        checked["__node_id"] = str(trigger.get("id"))
    if created_by is not None:
        checked.setdefault("__triggering_user_id", str(created_by.id))
    # One statement stores the execution and wakes its queue: run now is a hot path (API, editor).
    return execution_create(
        workflow=workflow,
        trigger_type="manual",
        trigger_data=checked,
        revision=revision,
        environment=environment,
        deployment=deployment,
        created_by=created_by,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def execution_cancel(*, execution: Execution) -> Execution:
    """Cancels at once if no runner holds it; otherwise asks its runner (it stops on its next heartbeat)."""
    locked = Execution.objects.select_for_update().get(id=execution.id)
    if locked.state in ExecutionState.finished():
        raise Conflict(f"The execution has already finished ({locked.state}).")
    if locked.state in (ExecutionState.PENDING, ExecutionState.SUSPENDED):
        locked.state = ExecutionState.CANCELLED
        locked.finished_at = timezone.now()
        locked.cancel_requested = True
        locked.error = locked.error or "Cancelled before it ran."
        locked.save(update_fields=["state", "finished_at", "cancel_requested", "error"])
    else:
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested"])
    notify_execution(locked.id)
    return locked


def execution_rerun(*, execution: Execution, created_by: Account | None) -> Created:
    """Runs the same revision again with the same trigger data, in the same environment."""
    if execution.workflow.state == WorkflowState.ARCHIVED:
        raise Conflict("The workflow is archived; restore it before running it.")
    return execution_create(
        workflow=execution.workflow,
        trigger_type=execution.trigger_type,
        trigger_data=dict(execution.trigger_data or {}),
        revision=execution.revision,
        environment=execution.environment,
        deployment=execution.deployment,
        created_by=created_by,
        entry_node=execution.entry_node,
        priority=execution.priority,
        rerun_of=execution,
    )


def _resume(execution_id: Any, resume_data: dict[str, Any] | None) -> Execution | None:
    """Suspended -> pending as a new attempt, compare-and-swap; returns the row or None if it moved on."""
    with transaction.atomic():
        execution = (
            Execution.objects.select_for_update(skip_locked=True)
            .select_related("queue")
            .filter(id=execution_id, state=ExecutionState.SUSPENDED)
            .first()
        )
        if execution is None:
            return None
        execution.state = ExecutionState.PENDING
        execution.resume_data = resume_data or {}
        execution.resume_at = None
        execution.runner = None
        execution.lease_token = None
        execution.lease_expires_at = None
        # A suspension is not a failure: resuming must not use up the retry budget.
        execution.max_attempts = max(execution.max_attempts, execution.attempt + 1)
        execution.save(
            update_fields=[
                "state", "resume_data", "resume_at", "runner", "lease_token", "lease_expires_at", "max_attempts",
            ]
        )  # fmt: skip
        notify_queue(execution.queue)
        notify_execution(execution.id)
        return execution


def execution_resume(*, execution: Execution, resume_data: dict[str, Any] | None = None) -> Execution:
    """Resumes a suspended execution (wait, pause, approval) from its checkpoint with `resume_data`."""
    if resume_data is not None and not isinstance(resume_data, dict):
        raise ValidationError({"resume_data": "Resume data must be a JSON object."})
    resumed = _resume(execution.id, resume_data)
    if resumed is None:
        execution.refresh_from_db(fields=["state"])
        raise Conflict(f"Only a suspended execution can be resumed; this one is {execution.state}.")
    return resumed


def execution_answer(*, execution_id: Any, resume_data: dict[str, Any]) -> bool:
    """Resumes a suspended execution by id with an answer given outside the API (a chat button);
    returns False when it is no longer suspended (answered, timed out or cancelled already)."""
    return _resume(execution_id, resume_data) is not None


def execution_resume_due_one(*, now: Any = None) -> bool:
    """Resumes one suspended execution whose resume time has come; returns True if it found one."""
    now = now or timezone.now()
    ids = list(
        Execution.objects.filter(state=ExecutionState.SUSPENDED, resume_at__lte=now)
        .order_by("resume_at")
        .values_list("id", flat=True)[:1]
    )
    if not ids:
        return False
    _resume(ids[0], {"reason": "timer", "resumed_at": now.isoformat()})
    return True


def retention_cutoff() -> Any:
    days = int(getattr(settings, "EXECUTION_RETENTION_DAYS", 30))
    return timezone.now() - timedelta(days=days)


def execution_retention_purge(*, batch_size: int = 500, cutoff: Any = None) -> int:
    """Deletes one batch of executions that finished before the cutoff (steps go with them)."""
    cutoff = cutoff or retention_cutoff()
    ids = list(
        Execution.objects.filter(state__in=ExecutionState.finished(), finished_at__lt=cutoff)
        .order_by("finished_at")
        .values_list("id", flat=True)[:batch_size]
    )
    if not ids:
        return 0
    # Re-runs keep their history: clear the link instead of blocking the delete.
    Execution.objects.filter(rerun_of_id__in=ids).update(rerun_of=None)
    Execution.objects.filter(id__in=ids).delete()
    return len(ids)
