"""Creating executions: the one entry point for the editor's Run, the API, launch's triggers and re-runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from flomation.core.models import (
    Account,
    Deployment,
    Environment,
    Execution,
    Queue,
    Revision,
    Workflow,
)
from flomation.core.services.queues import queue_shared


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
) -> Created:
    """Creates a pending execution and wakes the queue's runners in the same transaction.

    The revision defaults to the environment's current deployment, else the workflow's latest revision.
    With an idempotency key, a repeat returns the first execution and creates nothing.
    """
    if idempotency_key:
        earlier = Execution.objects.filter(
            organisation_id=workflow.organisation_id, idempotency_key=idempotency_key
        ).first()
        if earlier:
            return Created(earlier, False)
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
    queue = execution_queue(workflow=workflow)
    try:
        with transaction.atomic():
            execution = Execution.objects.create(
                organisation_id=workflow.organisation_id,
                workflow=workflow,
                revision=revision,
                environment=environment,
                deployment=deployment,
                queue=queue,
                priority=priority,
                trigger_type=trigger_type,
                trigger_data=trigger_data or {},
                entry_node=entry_node,
                idempotency_key=idempotency_key or None,
                created_by=created_by,
                rerun_of=rerun_of,
            )
            notify_queue(queue)
    except IntegrityError:
        if not idempotency_key:
            raise
        earlier = Execution.objects.get(
            organisation_id=workflow.organisation_id, idempotency_key=idempotency_key
        )
        return Created(earlier, False)
    return Created(execution, True)


def execution_channel(execution_id: Any) -> str:
    """The NOTIFY channel that wakes listeners of one execution's events (live view, lastNode webhooks)."""
    return f"flomation_x_{getattr(execution_id, 'hex', str(execution_id).replace('-', ''))}"


def notify_execution(execution_id: Any) -> None:
    """Wakes everyone streaming this execution, once the surrounding transaction commits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [execution_channel(execution_id)])
