from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from flomation.core.models import (
    Account,
    Deployment,
    Execution,
    Organisation,
    Queue,
    Revision,
    Workflow,
    WorkflowFavourite,
)
from flomation.core.permissions import NotFound
from flomation.core.rows import columns, loaded, width
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


def workflows_with_last_run(rows: QuerySet[Workflow]) -> QuerySet[Workflow]:
    """`rows` annotated with their latest execution's `last_run_at` and `last_run_state` (None if never run)."""
    latest = Execution.objects.filter(workflow=OuterRef("pk")).order_by("-created_at")
    return rows.annotate(
        last_run_at=Subquery(latest.values("created_at")[:1]),
        last_run_state=Subquery(latest.values("state")[:1]),
    )


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


@cache
def _latest_sql() -> str:
    workflows, queues, revisions = (m._meta.db_table for m in (Workflow, Queue, Revision))
    return (
        f"SELECT {columns(Workflow, 'w')}, {columns(Queue, 'q')}, {columns(Revision, 'r')} "
        f"FROM {workflows} w LEFT JOIN {queues} q ON q.id = w.queue_id "
        f"LEFT JOIN LATERAL (SELECT * FROM {revisions} x WHERE x.workflow_id = w.id "
        "ORDER BY x.number DESC LIMIT 1) r ON true "
        "WHERE w.id = %s AND w.organisation_id = %s"
    )


def workflow_get_latest(*, organisation: Organisation, workflow_id: Any) -> tuple[Workflow, Revision | None]:
    """The organisation's workflow (as workflow_get, without `is_favourite`) and its latest revision, read
    together in one plain query (run now's test run: building the ORM's query cost more than running it)."""
    try:
        parsed = uuid.UUID(str(workflow_id))
    except ValueError:
        raise NotFound("No such workflow.") from None
    with connection.cursor() as cursor:
        cursor.execute(_latest_sql(), [parsed, organisation.id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such workflow.")
    queue_at, revision_at = width(Workflow), width(Workflow) + width(Queue)
    workflow = loaded(Workflow, row[:queue_at])
    queue = loaded(Queue, row[queue_at:revision_at])
    revision = loaded(Revision, row[revision_at:])
    assert workflow is not None
    workflow.queue = queue
    workflow.organisation = organisation
    if revision is not None:
        revision.workflow = workflow
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


def deployment_get(*, workflow: Workflow, environment_id: Any, deployment_id: Any) -> Deployment:
    """One deployment of the workflow to that environment (current or earlier), or NotFound."""
    return get_or_404(
        deployment_list(workflow=workflow, environment_id=environment_id), "deployment", id=deployment_id
    )


def workflow_managed_in_files(*, workflow: Workflow) -> dict[str, str] | None:
    """{kind, path, commit} when the workflow is managed in files (a folder or Git), else None."""
    if workflow.source_id is None:
        return None
    commit = (
        workflow.revisions.exclude(commit_sha="")
        .order_by("-number")
        .values_list("commit_sha", flat=True)
        .first()
    )
    return {"kind": workflow.source.kind, "path": workflow.source_path, "commit": commit or ""}
