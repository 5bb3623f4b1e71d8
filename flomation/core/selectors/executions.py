from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet

from flomation.core.models import Execution, ExecutionStep, Organisation
from flomation.core.selectors.common import get_or_404


def execution_list(
    *,
    organisation: Organisation,
    workflow_id: Any = None,
    environment_id: Any = None,
    state: str | list[str] | None = None,
    trigger_type: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Execution]:
    """The organisation's executions, newest first, filtered."""
    rows = Execution.objects.filter(organisation=organisation).select_related(
        "workflow", "environment", "revision", "runner"
    )
    if workflow_id:
        rows = rows.filter(workflow_id=workflow_id)
    if environment_id:
        rows = rows.filter(environment_id=environment_id)
    if state:
        rows = rows.filter(state__in=[state] if isinstance(state, str) else state)
    if trigger_type:
        rows = rows.filter(trigger_type=trigger_type)
    if created_after:
        rows = rows.filter(created_at__gte=created_after)
    if created_before:
        rows = rows.filter(created_at__lt=created_before)
    return rows.order_by("-created_at", "id")


def execution_get(*, organisation: Organisation, execution_id: Any) -> Execution:
    return get_or_404(execution_list(organisation=organisation), "execution", id=execution_id)


def execution_stream_state(*, execution_id: Any) -> dict[str, Any] | None:
    """What the live event stream reports about an execution besides its steps; None once it is deleted.

    The caller has already checked that the execution belongs to the organisation it asked for.
    """
    return (
        Execution.objects.filter(id=execution_id)
        .values(
            "id",
            "state",
            "error",
            "attempt",
            "outputs",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
            "resume_at",
        )
        .first()
    )


def execution_steps_after(*, execution_id: Any, after: int, limit: int) -> list[ExecutionStep]:
    """The next `limit` steps of an execution after step id `after` (the event stream's cursor)."""
    return list(ExecutionStep.objects.filter(execution_id=execution_id, id__gt=after).order_by("id")[:limit])


def execution_steps(*, execution: Execution, after: int | None = None) -> QuerySet[ExecutionStep]:
    """The execution's steps in the order they happened; `after` is a step id (the event stream's cursor)."""
    rows = ExecutionStep.objects.filter(execution=execution)
    if after is not None:
        rows = rows.filter(id__gt=after)
    return rows.order_by("id")


def execution_trigger_types(*, organisation: Organisation) -> list[str]:
    """The trigger kinds the organisation's executions came from, and the common ones, sorted."""
    used = Execution.objects.filter(organisation=organisation).values_list("trigger_type", flat=True)
    return sorted(set(used.distinct()) | {"manual", "webhook", "schedule"})


def execution_counts_since(*, since: Any) -> list[dict[str, Any]]:
    """Executions of every organisation created since `since`, counted by state and trigger kind (for
    operators: the System page; never for tenants)."""
    return list(
        Execution.objects.filter(created_at__gte=since)
        .values("state", "trigger_type")
        .annotate(count=Count("id"))
        .order_by("state", "trigger_type")
    )
