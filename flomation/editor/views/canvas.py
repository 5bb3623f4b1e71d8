"""The canvas page and the small JSON endpoints its script calls: load, autosave, validate, history."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flomation.editor import catalogue, flowdiff
from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Refused, triggers
from flomation.editor.gateway import connections as connection_gateway
from flomation.editor.gateway import deployments as deploys
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import settings as org_settings
from flomation.editor.gateway import workflows as wf
from flomation.executor.secret_inputs import flow_redact


def json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"The request body is not valid JSON ({exc}).") from None
    if not isinstance(body, dict):
        raise Refused("The request body must be a JSON object.")
    return body


@require_GET
@editor_view()
def canvas(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    latest = wf.revision_latest(workflow=workflow)
    organisation = request.editor.organisation
    managed = wf.workflow_managed(workflow=workflow)
    boot = {
        "workflow": {
            "id": str(workflow.id),
            "name": workflow.name,
            "archived": workflow.state == "archived",
            "managed": managed,
        },
        "revision": latest.number if latest else 0,
        "edits": latest.edits if latest else 0,
        "flow": flow_redact(latest.flow) if latest else {"nodes": [], "edges": []},
        "references": {
            **org_settings.reference_names(organisation=organisation),
            "connections": connection_gateway.picker_choices(organisation=organisation)
            if request.editor.can(connection_gateway.VIEW)
            else [],
            "canTestConnections": request.editor.can(connection_gateway.USE),
        },
        "environments": [e.name for e in deploys.environment_list(organisation=organisation)],
        "canEdit": request.editor.can(orgs.EDIT),
        "canRun": request.editor.can(orgs.RUN),
        "urls": {
            "flow": f"/workflows/{workflow.id}/flow",
            "validate": f"/workflows/{workflow.id}/validate",
            "run": f"/workflows/{workflow.id}/run",
            "runForm": f"/workflows/{workflow.id}/run/form",
            "manifest": "/manifest.json",
            "paletteSearch": "/palette/search",
            "cronPreview": f"/workflows/{workflow.id}/cron-preview",
            "listen": f"/workflows/{workflow.id}/nodes/",
            "listened": f"/workflows/{workflow.id}/listen/",
        },
        "triggerUrls": triggers.production_urls(workflow=workflow),
    }
    return page(request, "editor/canvas.html", {"workflow": workflow, "boot": boot, "managed": managed})


@require_GET
@editor_view(json_view=True)
def palette_search(request: HttpRequest) -> JsonResponse:
    """The palette's search: node ids best first, and how they were ranked (by meaning or by keywords)."""
    from flomation.editor.gateway.palette import palette_search as search

    return JsonResponse(search(query=request.GET.get("q", "")))


@require_GET
@editor_view(json_view=True)
def manifest(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(catalogue.manifest())
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_http_methods(["GET", "PUT"])
@editor_view(json_view=True)
def flow(request: HttpRequest, workflow_id: str) -> JsonResponse:
    """GET the latest revision's flow; PUT saves the canvas (autosaves coalesce into one revision, see
    core's workflow_save; a `message` names the save and always makes a new revision)."""
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    if request.method == "GET":
        latest = wf.revision_latest(workflow=workflow)
        flow_json = latest.flow if latest else {"nodes": [], "edges": []}
        return JsonResponse(
            {
                "revision": latest.number if latest else 0,
                "edits": latest.edits if latest else 0,
                "flow": flow_redact(flow_json),
                "errors": catalogue.validate(flow_json),
            }
        )
    if not request.editor.can(orgs.EDIT):
        raise Refused("Your role lets you look at workflows but not change them.", 403)
    body = json_body(request)
    base, base_edits = body.get("base_revision"), body.get("base_edits")
    previous = wf.revision_latest(workflow=workflow)
    previous_flow = previous.flow if previous else None
    revision = wf.workflow_save(
        workflow=workflow,
        flow=body.get("flow"),
        author=request.editor.account,
        message=str(body.get("message") or ""),
        base_revision=base if isinstance(base, int) and not isinstance(base, bool) else None,
        base_edits=base_edits if isinstance(base_edits, int) and not isinstance(base_edits, bool) else None,
        seal=body.get("seal") is True,
    )
    summary = flowdiff.summarise(previous_flow, revision.flow)
    return JsonResponse(
        {
            "revision": revision.number,
            "edits": revision.edits,
            "created": revision.created,
            "named": revision.created and bool(revision.message),
            "summary": summary,
            "errors": catalogue.validate(revision.flow),
            # What the trigger secrets typed in were stored as, for the canvas to keep instead of the values.
            "secrets": wf.secret_markers(flow=revision.flow),
        }
    )


@require_POST
@editor_view(json_view=True)
def validate(request: HttpRequest, workflow_id: str) -> JsonResponse:
    wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    flow_json = wf.flow_shape(json_body(request).get("flow"))
    return JsonResponse({"errors": catalogue.validate(flow_json)})


@require_GET
@editor_view()
def revisions(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    rows = wf.revision_list(workflow=workflow, limit=101)
    history = []
    for index, revision in enumerate(rows[:100]):
        before = rows[index + 1].flow if index + 1 < len(rows) else None
        history.append({"revision": revision, "summary": flowdiff.summarise(before, revision.flow)})
    return page(request, "editor/revisions.html", {"workflow": workflow, "history": history})


@require_POST
@editor_view(orgs.EDIT)
def revision_restore(request: HttpRequest, workflow_id: str, number: int) -> HttpResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    revision = wf.revision_restore(workflow=workflow, number=number, author=request.editor.account)
    messages.success(request, f"Restored revision {number} as revision {revision.number}.")
    return HttpResponseRedirect(f"/workflows/{workflow.id}")


@require_GET
@editor_view(json_view=True)
def cron_preview(request: HttpRequest, workflow_id: str) -> JsonResponse:
    """A schedule trigger's next five fire times in its time zone, from the settings being typed (?cron=,
    &timezone=, or mode/interval/unit/time_of_day/days_of_week); 400 with launch's message if invalid."""
    wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    config = {key: request.GET.get(key) for key in request.GET if len(request.GET.get(key) or "") <= 200}
    return JsonResponse(triggers.schedule_preview(config=config))
