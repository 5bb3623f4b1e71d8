"""Running a workflow and watching it: run now, the live and replay view, its event stream, cancel, re-run."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Refused
from flomation.editor.gateway import deployments as deploys
from flomation.editor.gateway import executions as runs
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import workflows as wf
from flomation.editor.runform import run_controls
from flomation.editor.views.canvas import json_body
from flomation.executor.secret_inputs import flow_redact

log = logging.getLogger(__name__)


def _trigger_data(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise Refused(f"The trigger data is not valid JSON ({exc}).") from None
    if not isinstance(value, dict):
        raise Refused("The trigger data must be a JSON object of names and values.")
    return value


@require_POST
@editor_view(orgs.RUN)
def run(request: HttpRequest, workflow_id: str) -> HttpResponse:
    """Runs the latest revision. JSON in, JSON out for the canvas; a form post redirects to the live view."""
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    is_json = request.content_type == "application/json"
    body = json_body(request) if is_json else request.POST
    environment = None
    if body.get("environment"):
        environment = deploys.environment_get(
            organisation=request.editor.organisation, name_or_id=str(body["environment"])
        )
    execution = runs.execution_run_now(
        workflow=workflow,
        by=request.editor.account,
        trigger_data=_trigger_data(body.get("trigger_data")),
        environment=environment,
    )
    url = f"/executions/{execution.id}"
    if is_json:
        return JsonResponse({"execution": str(execution.id), "url": url}, status=201)
    return HttpResponseRedirect(url)


@require_POST
@editor_view(orgs.RUN, json_view=True)
def run_form(request: HttpRequest, workflow_id: str) -> JsonResponse:
    """The Run dialog's inputs for the flow on the canvas: a labelled control per field of its manual
    trigger's input schema. `schema` is false when it declares none (the dialog offers name/value rows) and
    `problem` says what is wrong with a malformed one."""
    wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    flow_json = wf.flow_shape(json_body(request).get("flow"))
    try:
        fields = runs.run_inputs_schema(flow=flow_json)
    except Refused as exc:
        return JsonResponse({"schema": False, "html": "", "problem": exc.message})
    if not fields:
        return JsonResponse({"schema": False, "html": "", "problem": ""})
    html = render_to_string("editor/run_fields.html", {"controls": run_controls(fields=fields)})
    return JsonResponse({"schema": True, "html": html, "problem": ""})


@require_GET
@editor_view()
def execution_page(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = runs.execution_get(organisation=request.editor.organisation, execution_id=execution_id)
    steps = [runs.step_to_dict(s) for s in runs.step_list(execution=execution)]
    boot = {
        "execution": runs.execution_to_dict(execution),
        "workflow": {"id": str(execution.workflow_id), "name": execution.workflow.name},
        "flow": flow_redact(execution.revision.flow),
        "steps": steps,
        "mode": "replay" if request.GET.get("mode") == "replay" else "live",
        "urls": {
            "events": f"/executions/{execution.id}/events",
            "state": f"/executions/{execution.id}/state",
            "manifest": "/manifest.json",
        },
    }
    return page(
        request,
        "editor/execution.html",
        {"execution": execution, "boot": boot, "can_run": request.editor.can(orgs.RUN)},
    )


@require_GET
@editor_view(json_view=True)
def execution_state(request: HttpRequest, execution_id: str) -> JsonResponse:
    execution = runs.execution_get(organisation=request.editor.organisation, execution_id=execution_id)
    steps = [runs.step_to_dict(s) for s in runs.step_list(execution=execution)]
    return JsonResponse({"execution": runs.execution_to_dict(execution), "steps": steps})


def _last_event(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after", "")
    try:
        return int(raw)
    except ValueError:
        return None


@require_GET
@editor_view(json_view=True)
def execution_events(request: HttpRequest, execution_id: str) -> HttpResponse:
    """Server-sent events (`step`, `state`, `end`): core's live stream of the execution."""
    execution = runs.execution_get(organisation=request.editor.organisation, execution_id=execution_id)
    response = StreamingHttpResponse(
        runs.execution_live_events(execution=execution, after=_last_event(request)),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@require_POST
@editor_view(orgs.RUN)
def execution_cancel(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = runs.execution_get(organisation=request.editor.organisation, execution_id=execution_id)
    runs.execution_cancel(execution=execution)
    if request.content_type == "application/json":
        return JsonResponse({"execution": runs.execution_to_dict(execution)})
    return HttpResponseRedirect(f"/executions/{execution.id}")


@require_POST
@editor_view(orgs.RUN)
def execution_rerun(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = runs.execution_get(organisation=request.editor.organisation, execution_id=execution_id)
    again = runs.execution_rerun(execution=execution, by=request.editor.account)
    if request.content_type == "application/json":
        return JsonResponse({"execution": str(again.id), "url": f"/executions/{again.id}"}, status=201)
    return HttpResponseRedirect(f"/executions/{again.id}")
