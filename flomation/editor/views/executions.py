"""The executions list: filters (workflow, environment, status, trigger type, dates) and a chart over time."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from flomation.core.models import ExecutionState
from flomation.editor import chart
from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Refused
from flomation.editor.gateway import deployments as deploys
from flomation.editor.gateway import executions as runs
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import workflows as wf

PAGE_SIZE = 50


def _date(value: str, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(f"The {label} date must look like 2025-01-31.") from None


@require_GET
@editor_view(orgs.EXECUTIONS)
def execution_list(request: HttpRequest) -> HttpResponse:
    organisation = request.editor.organisation
    status = request.GET.get("status", "")
    if status and status not in ExecutionState.values:
        raise Refused(f"Unknown status {status!r}.")
    filters = runs.ExecutionFilters(
        workflow=request.GET.get("workflow", ""),
        environment=request.GET.get("environment", ""),
        status=status,
        trigger_type=request.GET.get("trigger", ""),
        date_from=_date(request.GET.get("from", ""), "from"),
        date_to=_date(request.GET.get("to", ""), "to"),
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise Refused("The 'from' date is after the 'to' date.")
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    rows = runs.execution_list(organisation=organisation, filters=filters, limit=PAGE_SIZE + 1, offset=offset)
    stats = runs.execution_stats(organisation=organisation, filters=filters)
    query = request.GET.copy()
    query.pop("offset", None)
    return page(
        request,
        "editor/executions.html",
        {
            "rows": rows[:PAGE_SIZE],
            "has_more": len(rows) > PAGE_SIZE,
            "next_offset": offset + PAGE_SIZE,
            "prev_offset": max(0, offset - PAGE_SIZE) if offset else None,
            "query": query.urlencode(),
            "filters": filters,
            "chart": chart.build(stats),
            "workflows": [
                r.workflow for r in wf.workflow_list(organisation=organisation, include_archived=True)
            ],
            "environments": deploys.environment_list(organisation=organisation),
            "statuses": ExecutionState.values,
            "trigger_types": runs.execution_trigger_types(organisation=organisation),
        },
    )
