"""The canvas's "Listen for test event": start listening on a trigger node, then poll for the request."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import editor_view
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import triggers
from flomation.editor.gateway import workflows as wf


@require_POST
@editor_view(orgs.EDIT, json_view=True)
def listen(request: HttpRequest, workflow_id: str, node_id: str) -> JsonResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    answer = triggers.test_listen_start(workflow=workflow, node_id=node_id, account=request.editor.account)
    return JsonResponse(answer, status=201)


@require_GET
@editor_view(json_view=True)
def listened(request: HttpRequest, workflow_id: str, listen_id: str) -> JsonResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    return JsonResponse(
        triggers.test_listen_get(workflow=workflow, listen_id=listen_id, account=request.editor.account)
    )
