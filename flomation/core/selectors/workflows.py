from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from flomation.core.models import Account, Deployment, Organisation, Revision, Workflow, WorkflowFavourite
from flomation.core.permissions import NotFound
from flomation.core.selectors.common import get_or_404

ORDERINGS = {"name", "-name", "updated_at", "-updated_at", "created_at", "-created_at"}


def workflow_list(
    *,
    organisation: Organisation,
    account: Account | None = None,
    search: str | None = None,
    state: str | None = None,
    favourite: bool | None = None,
    environment_id: Any = None,
    ordering: str | None = None,
    include_archived: bool = False,
) -> QuerySet[Workflow]:
    """The organisation's workflows, filtered; `is_favourite` is annotated for `account`.

    Archived workflows are left out unless asked for by state or include_archived.
    """
    rows = Workflow.objects.filter(organisation=organisation).select_related("queue")
    if account is not None:
        rows = rows.annotate(
            is_favourite=Exists(WorkflowFavourite.objects.filter(workflow=OuterRef("pk"), account=account))
        )
        if favourite is not None:
            rows = rows.filter(is_favourite=favourite)
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if state:
        rows = rows.filter(state=state)
    elif not include_archived:
        rows = rows.exclude(state="archived")
    if environment_id:
        rows = rows.filter(deployments__environment_id=environment_id, deployments__is_current=True)
    return rows.order_by(ordering if ordering in ORDERINGS else "-updated_at", "id")


def workflow_get(*, organisation: Organisation, workflow_id: Any, account: Account | None = None) -> Workflow:
    """The organisation's workflow (archived too), with its queue; `is_favourite` only with `account`."""
    rows = (
        workflow_list(organisation=organisation, account=account, include_archived=True)
        if account is not None
        else Workflow.objects.filter(organisation=organisation).select_related("queue")
    )
    workflow = get_or_404(rows, "workflow", id=workflow_id)
    workflow.organisation = organisation  # the caller's row: reading it again would cost a query
    return workflow


def workflow_get_latest(*, organisation: Organisation, workflow_id: Any) -> tuple[Workflow, Revision | None]:
    """The organisation's workflow (as workflow_get, without `is_favourite`) and its latest revision, read
    together in one query when it has one (run now's test run)."""
    try:
        revision = (
            Revision.objects.select_related("workflow__queue")
            .filter(workflow__organisation=organisation, workflow_id=workflow_id)
            .order_by("-number")
            .first()
        )
    except (ValidationError, ValueError):
        raise NotFound("No such workflow.") from None
    if revision is None:
        return workflow_get(organisation=organisation, workflow_id=workflow_id), None
    workflow = revision.workflow
    workflow.organisation = organisation
    return workflow, revision


def revision_list(*, workflow: Workflow) -> QuerySet[Revision]:
    return Revision.objects.filter(workflow=workflow).select_related("author").order_by("-number")


def revision_get(*, workflow: Workflow, number: int) -> Revision:
    return get_or_404(revision_list(workflow=workflow), "revision", number=number)


def deployment_list(*, workflow: Workflow, environment_id: Any = None) -> QuerySet[Deployment]:
    rows = Deployment.objects.filter(workflow=workflow).select_related(
        "environment", "revision", "deployed_by"
    )
    if environment_id:
        rows = rows.filter(environment_id=environment_id)
    return rows.order_by("-deployed_at")


def deployment_current(*, workflow: Workflow) -> QuerySet[Deployment]:
    return deployment_list(workflow=workflow).filter(is_current=True)
