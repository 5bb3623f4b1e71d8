"""Deployments (seed 004): publish revision N to an environment, roll back, promote to the next environment.

Exactly one deployment per workflow and environment is current. Making one current sends
`deployment_activated` inside the same transaction, so what listeners write (launch's trigger URLs and
schedules, which survive redeployments and rollbacks) commits or rolls back together with it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from flomation.core.models import Account, Deployment, Environment, Revision, Workflow, WorkflowState
from flomation.core.services.audit import audit_record
from flomation.core.services.errors import Conflict
from flomation.core.signals import deployment_activated

MAX_TAG_LENGTH = 64


def _activate(
    *,
    workflow: Workflow,
    environment: Environment,
    revision: Revision,
    kind: str,
    version_tag: str,
    notes: str,
    deployed_by: Account | None,
    activate: bool = True,
) -> Deployment:
    if environment.organisation_id != workflow.organisation_id:
        raise ValidationError({"environment": "The environment belongs to another organisation."})
    if len(version_tag or "") > MAX_TAG_LENGTH:
        raise ValidationError({"version_tag": f"A version tag may be at most {MAX_TAG_LENGTH} characters."})
    # The workflow row lock serialises deployments of one workflow, so "one current" holds without retries.
    locked = Workflow.objects.select_for_update().get(id=workflow.id)
    if locked.state == WorkflowState.ARCHIVED:
        raise Conflict("The workflow is archived; restore it before deploying.")
    replaced = (
        Deployment.objects.filter(workflow=workflow, environment=environment, is_current=True)
        .values_list("revision__number", flat=True)
        .first()
    )
    Deployment.objects.filter(workflow=workflow, environment=environment, is_current=True).update(
        is_current=False
    )
    deployment = Deployment.objects.create(
        workflow=workflow,
        environment=environment,
        revision=revision,
        kind=kind,
        version_tag=version_tag or "",
        notes=notes or "",
        deployed_by=deployed_by,
        is_current=True,
    )
    # A deployed revision is frozen: autosaves never update it in place again (see workflow_save).
    Revision.objects.filter(id=revision.id).update(sealed=True)
    if locked.state in (WorkflowState.DRAFT, WorkflowState.PUBLISHED):
        locked.state = WorkflowState.ACTIVE if activate else WorkflowState.PUBLISHED
        locked.save(update_fields=["state", "updated_at"])
        workflow.state = locked.state
    deployment_activated.send(sender=Deployment, deployment=deployment)
    audit_record(
        action=_ACTIONS[kind],
        organisation_id=workflow.organisation_id,
        target_type="deployment",
        target_id=deployment.id,
        related=[workflow.id, environment.id, revision.id],
        summary={
            "workflow": workflow.name,
            "environment": environment.name,
            "before": {"revision": replaced},
            "after": {"revision": revision.number, "version_tag": deployment.version_tag},
        },
    )
    return deployment


_ACTIONS = {
    Deployment.Kind.DEPLOY: "deployment.created",
    Deployment.Kind.ROLLBACK: "deployment.rolled_back",
    Deployment.Kind.PROMOTION: "deployment.promoted",
}


def _revision(workflow: Workflow, number: int | None) -> Revision:
    revisions = workflow.revisions.all()
    revision = revisions.filter(number=number).first() if number else revisions.order_by("-number").first()
    if revision is None:
        if number:
            raise ValidationError({"revision": f"The workflow has no revision {number}."})
        raise ValidationError(
            {"revision": "The workflow has no saved revision yet: save it before deploying."}
        )
    return revision


@transaction.atomic
def workflow_deploy(
    *,
    workflow: Workflow,
    environment: Environment,
    revision_number: int | None = None,
    version_tag: str = "",
    notes: str = "",
    deployed_by: Account | None,
    activate: bool = True,
) -> Deployment:
    """Publishes revision N (default: the latest) to an environment and makes it current there.

    A draft workflow becomes active (or only published with activate=False); a paused one stays paused.
    """
    revision = _revision(workflow, revision_number)
    return _activate(
        workflow=workflow,
        environment=environment,
        revision=revision,
        kind=Deployment.Kind.DEPLOY,
        version_tag=version_tag or f"r{revision.number}",
        notes=notes,
        deployed_by=deployed_by,
        activate=activate,
    )


@transaction.atomic
def deployment_rollback(
    *,
    workflow: Workflow,
    environment: Environment,
    revision_number: int | None = None,
    notes: str = "",
    deployed_by: Account | None,
) -> Deployment:
    """Makes an earlier deployed revision current again (default: the one deployed before the current one).

    Only a revision that was deployed to this environment before can be rolled back to.
    """
    history = list(
        Deployment.objects.filter(workflow=workflow, environment=environment)
        .select_related("revision")
        .order_by("-deployed_at")
    )
    current = next((d for d in history if d.is_current), None)
    if current is None:
        raise Conflict(f"The workflow is not deployed to {environment.name}; there is nothing to roll back.")
    if revision_number is None:
        target = next((d for d in history if d.revision_id != current.revision_id), None)
        if target is None:
            raise Conflict(f"No earlier revision was deployed to {environment.name}.")
    else:
        target = next((d for d in history if d.revision.number == revision_number), None)
        if target is None:
            raise ValidationError(
                {
                    "revision": f"Revision {revision_number} was never deployed to {environment.name}; deploy it instead."
                }
            )
        if target.revision_id == current.revision_id:
            raise Conflict(f"Revision {revision_number} is already current in {environment.name}.")
    return _activate(
        workflow=workflow,
        environment=environment,
        revision=target.revision,
        kind=Deployment.Kind.ROLLBACK,
        version_tag=target.version_tag,
        notes=notes or f"Rolled back from r{current.revision.number} to r{target.revision.number}",
        deployed_by=deployed_by,
    )


def environment_next(*, environment: Environment) -> Environment | None:
    """The environment after this one in promotion order (development -> staging -> production)."""
    return (
        Environment.objects.filter(
            organisation_id=environment.organisation_id, position__gt=environment.position
        )
        .order_by("position", "name")
        .first()
    )


@transaction.atomic
def deployment_promote(
    *,
    workflow: Workflow,
    source: Environment,
    target: Environment | None = None,
    notes: str = "",
    deployed_by: Account | None,
) -> Deployment:
    """Deploys the revision current in `source` to `target` (default: the next environment), same tag."""
    current = (
        Deployment.objects.select_related("revision")
        .filter(workflow=workflow, environment=source, is_current=True)
        .first()
    )
    if current is None:
        raise Conflict(f"The workflow is not deployed to {source.name}; deploy it there before promoting.")
    target = target or environment_next(environment=source)
    if target is None:
        raise Conflict(f"{source.name} is the last environment; there is nowhere to promote to.")
    if target.id == source.id:
        raise ValidationError({"target": "Promote to a different environment."})
    return _activate(
        workflow=workflow,
        environment=target,
        revision=current.revision,
        kind=Deployment.Kind.PROMOTION,
        version_tag=current.version_tag,
        notes=notes or f"Promoted from {source.name}",
        deployed_by=deployed_by,
    )
