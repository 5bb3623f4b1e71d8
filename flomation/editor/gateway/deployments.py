"""Publishing revisions to environments, through core's services: deploy, history, rollback, promotion."""

from __future__ import annotations

from flomation.core import models as core
from flomation.core.selectors import environments as env_selectors
from flomation.core.selectors import workflows as wf_selectors
from flomation.core.services import deployments as deploy_services


def environment_list(*, organisation: core.Organisation) -> list[core.Environment]:
    return list(env_selectors.environment_list(organisation=organisation))


def environment_get(*, organisation: core.Organisation, name_or_id: str) -> core.Environment:
    return env_selectors.environment_by_id_or_name(organisation=organisation, value=name_or_id)


def deployment_list(*, workflow: core.Workflow) -> list[core.Deployment]:
    return list(wf_selectors.deployment_list(workflow=workflow))


def deployment_current(*, workflow: core.Workflow) -> dict[str, core.Deployment]:
    """Environment name -> the deployment running there now."""
    return {d.environment.name: d for d in wf_selectors.deployment_current(workflow=workflow)}


def workflow_deploy(
    *,
    workflow: core.Workflow,
    environment: core.Environment,
    revision_number: int,
    version_tag: str,
    notes: str,
    by: core.Account,
) -> core.Deployment:
    return deploy_services.workflow_deploy(
        workflow=workflow,
        environment=environment,
        revision_number=revision_number,
        version_tag=version_tag.strip(),
        notes=notes,
        deployed_by=by,
    )


def deployment_rollback(*, workflow: core.Workflow, deployment_id: str, by: core.Account) -> core.Deployment:
    """Rolls the deployment's environment back to the revision that deployment published."""
    target = wf_selectors.deployment_list(workflow=workflow).filter(id=deployment_id).first()
    if target is None:
        from flomation.editor.gateway import NotFound

        raise NotFound("That deployment is not in this workflow's history.")
    return deploy_services.deployment_rollback(
        workflow=workflow,
        environment=target.environment,
        revision_number=target.revision.number,
        deployed_by=by,
    )


def deployment_promote(
    *, workflow: core.Workflow, source: core.Environment, target: core.Environment | None, by: core.Account
) -> core.Deployment:
    return deploy_services.deployment_promote(workflow=workflow, source=source, target=target, deployed_by=by)
