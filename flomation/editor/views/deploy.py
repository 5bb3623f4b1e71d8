"""Publishing: deploy a revision with a version tag and notes, history, rollback, promotion, trigger URLs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Refused
from flomation.editor.gateway import deployments as deploys
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import workflows as wf


def trigger_links(workflow: Any) -> list[dict[str, Any]]:
    """The public addresses of the workflow's deployed triggers, from launch's selectors."""
    from flomation.launch import selectors as launch

    links = []
    for listed in launch.triggers_for_workflow(workflow=workflow):
        trigger = listed.trigger
        link: dict[str, Any] = {
            "title": trigger.get_kind_display(),
            "kind": trigger.kind,
            "url": listed.url,
            "node": trigger.node_id,
            "environment": trigger.environment.name,
            "next": listed.next_fire_times[:3],
        }
        base = settings.LAUNCH_URL.rstrip("/")
        if trigger.kind == "qr":
            link["image"] = base + reverse("launch-qr-svg", args=[trigger.public_id])
        if trigger.kind == "image":
            pixel = base + reverse("launch-image-gif", args=[trigger.public_id])
            link["snippet"] = f'<img src="{pixel}" width="1" height="1" alt="" style="display:none">'
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
            "triggers": trigger_links(workflow),
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
