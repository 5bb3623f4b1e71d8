"""Publishing: deploy a revision with a version tag and notes, history, rollback, promotion, trigger URLs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Refused
from flomation.editor.gateway import deployments as deploys
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import workflows as wf

# Trigger node actions and the launch path that serves each (DESIGN §2: /launch/webhook/<id>, ...).
TRIGGER_PATHS = {
    "trigger/webhook": ("Webhook", "webhook"),
    "trigger/web": ("Web (synchronous)", "web"),
    "trigger/form": ("Form", "form"),
    "trigger/qr": ("QR code", "qr"),
    "trigger/image": ("Tracking pixel", "image"),
}


def trigger_links(workflow: Any, flow: dict[str, Any]) -> list[dict[str, str]]:
    """The public URLs of the flow's triggers, served by the launch role."""
    base = settings.LAUNCH_URL.rstrip("/")
    links = []
    for node in flow.get("nodes", []):
        found = TRIGGER_PATHS.get(str(node.get("type") or (node.get("data") or {}).get("label")))
        if not found:
            continue
        title, kind = found
        url = f"{base}/launch/{kind}/{workflow.id}"
        link = {"title": title, "kind": kind, "url": url, "node": str(node.get("id"))}
        if kind == "qr":
            link["image"] = url
        if kind == "image":
            link["snippet"] = f'<img src="{url}" width="1" height="1" alt="" style="display:none">'
        links.append(link)
    return links


@require_GET
@editor_view()
def deploy_page(request: HttpRequest, workflow_id: str) -> HttpResponse:
    organisation = request.editor.organisation
    workflow = wf.workflow_get(organisation=organisation, workflow_id=workflow_id)
    environments = deploys.environment_list(organisation=organisation)
    current = deploys.deployment_current(workflow=workflow)
    latest = wf.revision_latest(workflow=workflow)
    return page(
        request,
        "editor/deploy.html",
        {
            "workflow": workflow,
            "environments": [(env, current.get(env.name)) for env in environments],
            "history": deploys.deployment_list(workflow=workflow),
            "revisions": wf.revision_list(workflow=workflow, limit=50),
            "latest": latest,
            "triggers": trigger_links(workflow, latest.flow if latest else {}),
            "can_deploy": request.editor.can(orgs.DEPLOY),
        },
    )


@require_POST
@editor_view(orgs.DEPLOY)
def deploy(request: HttpRequest, workflow_id: str) -> HttpResponse:
    organisation = request.editor.organisation
    workflow = wf.workflow_get(organisation=organisation, workflow_id=workflow_id)
    environment = deploys.environment_get(
        organisation=organisation, name_or_id=request.POST.get("environment", "")
    )
    try:
        number = int(request.POST.get("revision") or workflow.latest_revision)
    except ValueError:
        raise Refused("Choose a revision to publish.") from None
    deployment = deploys.workflow_deploy(
        workflow=workflow,
        environment=environment,
        revision_number=number,
        version_tag=request.POST.get("version_tag", ""),
        notes=request.POST.get("notes", ""),
        by=request.editor.account,
    )
    messages.success(
        request, f"Published {deployment.version_tag} (revision {number}) to {environment.name}."
    )
    return HttpResponseRedirect(f"/workflows/{workflow.id}/deploy")


@require_POST
@editor_view(orgs.DEPLOY)
def rollback(request: HttpRequest, workflow_id: str, deployment_id: str) -> HttpResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    deployment = deploys.deployment_rollback(
        workflow=workflow, deployment_id=deployment_id, by=request.editor.account
    )
    messages.success(
        request, f"Rolled {deployment.environment.name} back to revision {deployment.revision.number}."
    )
    return HttpResponseRedirect(f"/workflows/{workflow.id}/deploy")


@require_POST
@editor_view(orgs.DEPLOY)
def promote(request: HttpRequest, workflow_id: str) -> HttpResponse:
    organisation = request.editor.organisation
    workflow = wf.workflow_get(organisation=organisation, workflow_id=workflow_id)
    source = deploys.environment_get(organisation=organisation, name_or_id=request.POST.get("source", ""))
    target = deploys.environment_get(organisation=organisation, name_or_id=request.POST.get("target", ""))
    deployment = deploys.deployment_promote(
        workflow=workflow, source=source, target=target, by=request.editor.account
    )
    messages.success(
        request, f"Promoted revision {deployment.revision.number} from {source.name} to {target.name}."
    )
    return HttpResponseRedirect(f"/workflows/{workflow.id}/deploy")
