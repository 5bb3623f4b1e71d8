"""Executions as the editor sees them: run now, cancel, re-run, list with filters, steps and statistics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from flomation.core import models as core
from flomation.core.executions import control as control
from flomation.core.executions import events as live_events
from flomation.core.selectors import environments as env_selectors
from flomation.core.selectors import executions as exec_selectors
from flomation.core.services import inputs as input_services
from flomation.core.services.inputs import SchemaField
from flomation.editor.gateway import Refused

FINISHED = core.ExecutionState.finished()


@dataclass
class ExecutionFilters:
    workflow: str = ""
    environment: str = ""
    status: str = ""
    trigger_type: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class DayStats:
    day: date
    counts: dict[str, int] = field(default_factory=dict)
    durations_ms: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def mean_ms(self) -> int:
        return int(sum(self.durations_ms) / len(self.durations_ms)) if self.durations_ms else 0


def execution_run_now(
    *,
    workflow: core.Workflow,
    by: core.Account,
    trigger_data: dict[str, Any],
    environment: core.Environment | None = None,
) -> core.Execution:
    """The editor's Run button: the latest revision as a test, or the deployed one in an environment."""
    return control.execution_run_now(
        workflow=workflow, environment=environment, inputs=trigger_data, created_by=by
    ).execution


def run_inputs_schema(*, flow: dict[str, Any]) -> list[SchemaField]:
    """The fields the Run dialog asks for: the flow's manual trigger's input schema ([] when none).

    Raises Refused when the schema is malformed, saying what to fix.
    """
    try:
        return input_services.input_schema(node=input_services.manual_trigger_node(flow=flow))
    except ValidationError as exc:
        raise Refused(" ".join(exc.messages)) from None


def execution_get(*, organisation: core.Organisation, execution_id: object) -> core.Execution:
    return exec_selectors.execution_get(organisation=organisation, execution_id=execution_id)


def execution_cancel(*, execution: core.Execution) -> core.Execution:
    """Pending work is cancelled at once; running work when the runner next heartbeats."""
    return control.execution_cancel(execution=execution)


def execution_rerun(*, execution: core.Execution, by: core.Account) -> core.Execution:
    """Runs the same revision again with the same trigger data."""
    return control.execution_rerun(execution=execution, created_by=by).execution


def _filtered(organisation: core.Organisation, filters: ExecutionFilters) -> QuerySet[core.Execution]:
    environment_id = None
    if filters.environment:
        environment_id = env_selectors.environment_by_id_or_name(
            organisation=organisation, value=filters.environment
        ).id
    return exec_selectors.execution_list(
        organisation=organisation,
        workflow_id=filters.workflow or None,
        environment_id=environment_id,
        state=filters.status or None,
        trigger_type=filters.trigger_type or None,
        created_after=_day_start(filters.date_from),
        created_before=_day_start(filters.date_to + timedelta(days=1)) if filters.date_to else None,
    )


def _day_start(day: date | None) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def execution_list(
    *, organisation: core.Organisation, filters: ExecutionFilters, limit: int = 100, offset: int = 0
) -> list[core.Execution]:
    return list(_filtered(organisation, filters)[offset : offset + limit])


def execution_stats(
    *, organisation: core.Organisation, filters: ExecutionFilters, days: int = 14
) -> list[DayStats]:
    """Runs per day by state and the mean duration of finished runs, for the chart (oldest day first)."""
    end = filters.date_to or timezone.localdate()
    start = filters.date_from or end - timedelta(days=days - 1)
    rows = _filtered(
        organisation, ExecutionFilters(**{**filters.__dict__, "date_from": start, "date_to": end})
    )
    by_day = {
        start + timedelta(days=n): DayStats(start + timedelta(days=n)) for n in range((end - start).days + 1)
    }
    for state, created, started, finished in rows.values_list(
        "state", "created_at", "started_at", "finished_at"
    ):
        stats = by_day.get(timezone.localtime(created).date())
        if stats is None:
            continue
        stats.counts[state] = stats.counts.get(state, 0) + 1
        if started and finished:
            stats.durations_ms.append(int((finished - started).total_seconds() * 1000))
    return list(by_day.values())


def execution_trigger_types(*, organisation: core.Organisation) -> list[str]:
    return exec_selectors.execution_trigger_types(organisation=organisation)


def step_list(*, execution: core.Execution, after: int | None = None) -> list[core.ExecutionStep]:
    """Steps in the order they happened; `after` is the last step id seen (the event stream's cursor)."""
    return list(exec_selectors.execution_steps(execution=execution, after=after))


def step_to_dict(step: core.ExecutionStep) -> dict[str, Any]:
    return live_events.step_payload(step)


def execution_to_dict(execution: core.Execution) -> dict[str, Any]:
    """The execution as the live view's `state` events carry it (one shape for the page and the stream)."""
    return live_events.state_payload(
        {name: getattr(execution, name) for name in (
            "id", "state", "attempt", "error", "outputs", "cancel_requested", "created_at", "started_at",
            "finished_at", "resume_at",
        )}
    )  # fmt: skip


def execution_live_events(*, execution: core.Execution, after: int | None) -> Iterator[bytes]:
    """Core's live event stream of the execution (server-sent events: step, state, end)."""
    return live_events.execution_events(execution_id=execution.id, after=after)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
