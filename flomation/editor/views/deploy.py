"""Publishing: deploy a revision with a version tag and notes, history, rollback, promotion, and the
deployed triggers (addresses, pause and enable, next fire times, a poller's last poll and error)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Forbidden, Refused, triggers
from flomation.editor.gateway import deployments as deploys
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import workflows as wf


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
            "revision_groups": _revision_groups(wf.revision_list(workflow=workflow, limit=200)),
            "latest": latest,
            "triggers": triggers.trigger_list(workflow=workflow),
            "can_deploy": request.editor.can(orgs.DEPLOY),
            "can_switch": _can_switch(request),
        },
    )


RECENT_REVISIONS = 3
EARLIER_REVISIONS = 50


def _revision_groups(revisions: list) -> list[tuple[str, list]]:
    """The Publish dialog's revision choices: the most recent, then named versions, then earlier saves."""
    recent = revisions[:RECENT_REVISIONS]
    named = [r for r in revisions[RECENT_REVISIONS:] if r.message]
    earlier = [r for r in revisions[RECENT_REVISIONS:] if not r.message][:EARLIER_REVISIONS]
    groups = [("Most recent", recent), ("Named versions", named), ("Earlier saves", earlier)]
    return [(label, rows) for label, rows in groups if rows]


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


def _can_switch(request: HttpRequest) -> bool:
    """Pausing and enabling triggers needs flow.edit or flow.execute (as launch's API)."""
    return request.editor.can(orgs.EDIT) or request.editor.can(orgs.RUN)


@require_POST
@editor_view()
def trigger_switch(request: HttpRequest, workflow_id: str, public_id: str) -> HttpResponse:
    """Pauses (`enabled=0`) or enables (`enabled=1`) one of the workflow's deployed triggers."""
    if not _can_switch(request):
        raise Forbidden("Pausing or enabling a trigger needs the permission 'flow.edit' or 'flow.execute'.")
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    enabled = request.POST.get("enabled")
    if enabled not in ("0", "1"):
        raise Refused("Say whether to pause (enabled=0) or enable (enabled=1) the trigger.")
    card = triggers.trigger_set_enabled(workflow=workflow, public_id=public_id, enabled=enabled == "1")
    state = "enabled" if card.enabled else "paused"
    messages.success(request, f"{card.title} trigger {card.node} in {card.environment} is {state}.")
    return HttpResponseRedirect(f"/workflows/{workflow.id}/deploy#trigger-{card.public_id}")
