"""Workflows and their immutable revisions: create, save, duplicate, archive, favourite, import, export."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from flomation.core.models import (
    Account,
    Organisation,
    Queue,
    Revision,
    Workflow,
    WorkflowFavourite,
    WorkflowState,
)
from flomation.core.services.errors import Conflict, FlowInvalid
from flomation.core.services.flow_secrets import flow_secrets_copy, flow_secrets_store
from flomation.core.signals import workflow_state_changed
from flomation.executor.secret_inputs import flow_without_secrets

EXPORT_FORMAT = "flomation-workflow"
EXPORT_VERSION = 1
MAX_NAME_LENGTH = 200


def flow_validate(*, flow: Any) -> None:
    """Raises FlowInvalid listing every problem (node, field, message) the executor's validator finds."""
    if not isinstance(flow, dict) or not isinstance(flow.get("nodes"), list):
        raise FlowInvalid(
            [{"node_id": None, "field": "nodes", "message": "a flow is an object with a list of nodes"}]
        )
    if not isinstance(flow.get("edges", []), list):
        raise FlowInvalid([{"node_id": None, "field": "edges", "message": "edges must be a list"}])
    try:
        from flomation.executor import validate_flow
    except ImportError:
        from flomation.executor.validate import validate_flow
    errors = validate_flow(flow)
    if errors:
        raise FlowInvalid([error.to_dict() for error in errors])


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A workflow needs a name."})
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError({"name": f"A workflow name may be at most {MAX_NAME_LENGTH} characters."})
    return name


def _check_queue(organisation: Organisation, queue: Queue | None) -> Queue | None:
    if queue is not None and queue.organisation_id not in (None, organisation.id):
        raise ValidationError({"queue": "The queue belongs to another organisation."})
    return queue


@transaction.atomic
def workflow_create(
    *,
    organisation: Organisation,
    name: str,
    created_by: Account | None,
    description: str = "",
    flow: dict[str, Any] | None = None,
    message: str = "",
    queue: Queue | None = None,
) -> Workflow:
    """Creates a draft workflow; with a flow, also its first revision (validated like every save)."""
    workflow = Workflow.objects.create(
        organisation=organisation,
        name=_check_name(name),
        description=description or "",
        queue=_check_queue(organisation, queue),
        created_by=created_by,
    )
    if flow is not None:
        workflow_save(workflow=workflow, flow=flow, author=created_by, message=message or "Created")
        workflow.refresh_from_db()
    return workflow


@transaction.atomic
def workflow_save(
    *, workflow: Workflow, flow: dict[str, Any], author: Account | None, message: str = ""
) -> Revision:
    """Validates the flow and stores it as the workflow's next numbered, immutable revision.

    Trigger secrets in the flow are stored encrypted apart from it; the revision keeps references only
    (see flow_secrets).
    """
    if workflow.state == WorkflowState.ARCHIVED:
        raise Conflict("The workflow is archived; restore it before saving changes.")
    flow_validate(flow=flow)
    latest = workflow.revisions.order_by("-number").only("flow").first()
    flow = flow_secrets_store(workflow=workflow, flow=flow, previous_flow=latest.flow if latest else None)
    # Numbering under a row lock so two saves never take the same number.
    Workflow.objects.filter(id=workflow.id).select_for_update().update(
        latest_revision=F("latest_revision") + 1
    )
    workflow.refresh_from_db(fields=["latest_revision", "updated_at"])
    return Revision.objects.create(
        workflow=workflow,
        number=workflow.latest_revision,
        flow=flow,
        message=(message or "")[:500],
        author=author,
    )


def workflow_update(
    *,
    workflow: Workflow,
    name: str | None = None,
    description: str | None = None,
    queue: Queue | None | bool = False,
    notify_on_failure: bool | None = None,
    notify_on_success: bool | None = None,
    notify_recipients: list[str] | None = None,
) -> Workflow:
    """Changes a workflow's settings; arguments left out stay as they are (queue=False means unchanged)."""
    fields = ["updated_at"]
    if name is not None:
        workflow.name = _check_name(name)
        fields.append("name")
    if description is not None:
        workflow.description = description
        fields.append("description")
    if queue is not False:
        workflow.queue = _check_queue(workflow.organisation, queue)  # type: ignore[arg-type]
        fields.append("queue")
    for field, value in (
        ("notify_on_failure", notify_on_failure),
        ("notify_on_success", notify_on_success),
        ("notify_recipients", notify_recipients),
    ):
        if value is not None:
            setattr(workflow, field, value)
            fields.append(field)
    workflow.save(update_fields=fields)
    return workflow


# Which lifecycle states a workflow may move to by hand (deploying moves draft to active, see deployments).
_TRANSITIONS: dict[str, frozenset[str]] = {
    WorkflowState.DRAFT: frozenset({WorkflowState.ARCHIVED}),
    WorkflowState.PUBLISHED: frozenset({WorkflowState.ACTIVE, WorkflowState.PAUSED, WorkflowState.ARCHIVED}),
    WorkflowState.ACTIVE: frozenset({WorkflowState.PAUSED, WorkflowState.ARCHIVED}),
    WorkflowState.PAUSED: frozenset({WorkflowState.ACTIVE, WorkflowState.ARCHIVED}),
    WorkflowState.ARCHIVED: frozenset({WorkflowState.DRAFT}),
}


def workflow_set_state(*, workflow: Workflow, state: str) -> Workflow:
    """Moves a workflow through its lifecycle (pause, activate, archive, restore); refuses other moves."""
    if state not in WorkflowState.values:
        raise ValidationError(
            {"state": f"Unknown state {state!r}; choose one of {', '.join(WorkflowState.values)}."}
        )
    if state == workflow.state:
        return workflow
    if state not in _TRANSITIONS[workflow.state]:
        allowed = ", ".join(sorted(_TRANSITIONS[workflow.state])) or "none"
        raise Conflict(f"A {workflow.state} workflow cannot become {state}; it can become: {allowed}.")
    if state == WorkflowState.DRAFT and workflow.deployments.filter(is_current=True).exists():
        state = (
            WorkflowState.PAUSED
        )  # a restored workflow that is still deployed must be activated on purpose
    previous = workflow.state
    workflow.state = state
    workflow.save(update_fields=["state", "updated_at"])
    workflow_state_changed.send(sender=Workflow, workflow=workflow, previous=previous)
    return workflow


def workflow_archive(*, workflow: Workflow) -> Workflow:
    """Archives a workflow: it stays readable for audit but no longer runs or accepts saves."""
    return workflow_set_state(workflow=workflow, state=WorkflowState.ARCHIVED)


@transaction.atomic
def workflow_duplicate(
    *, workflow: Workflow, created_by: Account | None, name: str | None = None
) -> Workflow:
    """Copies a workflow's settings and latest flow into a new draft (revision 1, no deployments)."""
    latest = workflow.revisions.order_by("-number").first()
    copy_ = Workflow.objects.create(
        organisation=workflow.organisation,
        name=_check_name(name or f"{workflow.name} (copy)"[:MAX_NAME_LENGTH]),
        description=workflow.description,
        queue=workflow.queue,
        notify_on_failure=workflow.notify_on_failure,
        notify_on_success=workflow.notify_on_success,
        notify_recipients=list(workflow.notify_recipients),
        created_by=created_by,
    )
    if latest is not None:
        Workflow.objects.filter(id=copy_.id).update(latest_revision=1)
        Revision.objects.create(
            workflow=copy_,
            number=1,
            flow=flow_secrets_store(
                workflow=copy_, flow=flow_secrets_copy(source=workflow, target=copy_, flow=latest.flow)
            ),
            message=f"Duplicated from {workflow.name} r{latest.number}",
            author=created_by,
        )
        copy_.refresh_from_db()
    return copy_


def workflow_favourite(*, workflow: Workflow, account: Account, favourite: bool) -> bool:
    """Marks or unmarks a workflow as one of the account's favourites; returns the new value."""
    if favourite:
        WorkflowFavourite.objects.get_or_create(workflow=workflow, account=account)
    else:
        WorkflowFavourite.objects.filter(workflow=workflow, account=account).delete()
    return favourite


def workflow_export(*, workflow: Workflow, revision_number: int | None = None) -> dict[str, Any]:
    """The workflow as a portable JSON document: the stored flow without its trigger secrets.

    Secrets never leave in an export: each stored one is exported unset and listed in `secrets_to_set`
    (node id and input) so whoever imports it knows what to enter again. `${secrets.NAME}` references stay.
    """
    revisions = workflow.revisions.all()
    revision = (
        revisions.filter(number=revision_number).first()
        if revision_number
        else revisions.order_by("-number").first()
    )
    if revision_number and revision is None:
        raise ValidationError({"revision": f"The workflow has no revision {revision_number}."})
    flow, unset = flow_without_secrets(revision.flow) if revision else ({"nodes": [], "edges": []}, [])
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "name": workflow.name,
        "description": workflow.description,
        "revision": revision.number if revision else None,
        "flow": flow,
        "secrets_to_set": unset,
    }


def workflow_import(
    *, organisation: Organisation, document: Any, created_by: Account | None, name: str | None = None
) -> Workflow:
    """Creates a workflow from an export: this API's document, or a bare flow as Flomation's editor saves it.

    A bare flow is `{"nodes": [...], "edges": [...]}`, optionally with `name`/`description` beside them;
    the flow is stored unchanged.
    """
    if not isinstance(document, dict):
        raise ValidationError(
            "An import is a JSON object: an exported workflow or a flow with nodes and edges."
        )
    if "flow" in document:
        flow = document["flow"]
        if document.get("format") not in (None, EXPORT_FORMAT):
            raise ValidationError({"format": f"Unknown export format {document.get('format')!r}."})
    elif "nodes" in document:
        flow = {key: value for key, value in document.items() if key not in ("name", "description")}
    else:
        raise ValidationError("The document has neither a flow nor nodes; is it a Flomation export?")
    workflow_name = name or document.get("name") or "Imported workflow"
    description = document.get("description") or ""
    if not isinstance(workflow_name, str) or not isinstance(description, str):
        raise ValidationError("The name and description of an import must be strings.")
    return workflow_create(
        organisation=organisation,
        name=workflow_name,
        description=description,
        flow=flow,
        message="Imported",
        created_by=created_by,
    )
