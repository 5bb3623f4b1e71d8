"""Workflows and their revisions (autosaves coalesce, see workflow_save): create, save, duplicate, archive, favourite, import, export."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flomation.core.models import (
    Account,
    Organisation,
    Queue,
    Revision,
    Workflow,
    WorkflowFavourite,
    WorkflowState,
)
from flomation.core.services.errors import Conflict, FlowInvalid, ManagedInFiles
from flomation.core.services.flow_secrets import flow_secrets_copy, flow_secrets_store
from flomation.core.signals import workflow_state_changed
from flomation.executor.secret_inputs import flow_without_secrets
from flomation.lib.flow_document import EXPORT_FORMAT, FlowDocumentError, flow_document_read
from flomation.lib.flow_layout import layout_only_change

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
    *,
    workflow: Workflow,
    flow: dict[str, Any],
    author: Account | None,
    message: str = "",
    base_revision: int | None = None,
    base_edits: int | None = None,
    seal: bool = False,
    source_id: Any = None,
) -> Revision:
    """Validates the flow and stores it, coalescing autosaves so revisions mark real steps.

    - A flow that differs from the latest revision only in layout (node positions, viewport) updates that
      revision in place; it never makes a new one (unless the latest is deployed, which never changes).
    - An unnamed save (no `message`) by the latest revision's author within REVISION_COALESCE_SECONDS of
      its start updates it in place while it is unnamed, unsealed and not deployed.
    - A named save always makes a new revision and seals it; `seal` (the editor leaving) seals the result.

    `base_revision`/`base_edits` are what the caller last saw (number and in-place edit count); a save
    based on anything older than the latest is refused with Conflict. The returned revision carries
    `created` (False when an existing revision was updated). Trigger secrets in the flow are stored
    encrypted apart from it; the revision keeps references only (see flow_secrets).

    A workflow managed in files is saved only by its own source's sync (`source_id`); any other save is
    refused with ManagedInFiles (409).
    """
    workflow_check_editable(workflow=workflow, source_id=source_id)
    if workflow.state == WorkflowState.ARCHIVED:
        raise Conflict("The workflow is archived; restore it before saving changes.")
    flow_validate(flow=flow)
    # The row lock serialises saves of one workflow: numbering, coalescing and the base check.
    Workflow.objects.select_for_update().filter(id=workflow.id).values_list("id", flat=True).first()
    latest = workflow.revisions.select_for_update().order_by("-number").first()
    _check_base(latest, base_revision, base_edits)
    flow = flow_secrets_store(workflow=workflow, flow=flow, previous_flow=latest.flow if latest else None)
    message = (message or "").strip()[:500]
    if latest is not None and not message and flow == latest.flow:
        # Nothing changed (a save on leaving the editor, say): no revision and no edit; maybe sealed.
        if seal and not latest.sealed:
            revision_seal(workflow=workflow)
            latest.sealed = True
        latest.created = False
        return latest
    if latest is not None and _may_update(latest, flow=flow, author=author, message=message):
        latest.flow = flow
        latest.edits += 1
        latest.updated_at = timezone.now()
        latest.sealed = latest.sealed or seal
        latest.save(update_fields=["flow", "edits", "updated_at", "sealed"])
        Workflow.objects.filter(id=workflow.id).update(updated_at=latest.updated_at)
        workflow.refresh_from_db(fields=["latest_revision", "updated_at"])
        latest.created = False
        return latest
    Workflow.objects.filter(id=workflow.id).update(
        latest_revision=F("latest_revision") + 1, updated_at=timezone.now()
    )
    workflow.refresh_from_db(fields=["latest_revision", "updated_at"])
    revision = Revision.objects.create(
        workflow=workflow,
        number=workflow.latest_revision,
        flow=flow,
        message=message,
        author=author,
        sealed=bool(message) or seal,
    )
    revision.created = True
    return revision


def workflow_check_editable(*, workflow: Workflow, source_id: Any = None) -> None:
    """Raises ManagedInFiles unless the workflow is edited here, or `source_id` is the source managing it."""
    if workflow.source_id is None or str(workflow.source_id) == str(source_id or ""):
        return
    where = "the organisation's Git repository" if workflow.source.kind == "git" else "the flows folder"
    raise ManagedInFiles(
        f"This workflow is managed in files ({workflow.source_path} in {where}): change that file instead; "
        "saves here are refused. Export it to a file to start from this version."
    )


def _check_base(latest: Revision | None, base_revision: int | None, base_edits: int | None) -> None:
    if latest is None or base_revision is None:
        return
    if base_revision < latest.number or (
        base_revision == latest.number and base_edits is not None and base_edits < latest.edits
    ):
        raise Conflict(
            f"Revision {latest.number} was saved elsewhere after you opened this canvas: "
            "reload to see it (your change was not saved)."
        )


def _may_update(latest: Revision, *, flow: Any, author: Account | None, message: str) -> bool:
    """Whether this save updates the latest revision in place instead of making a new one."""
    if message or latest.deployments.exists():
        return False
    if layout_only_change(latest.flow, flow):
        return True
    window = settings.REVISION_COALESCE_SECONDS
    return (
        window > 0
        and not latest.sealed
        and not latest.message
        and author is not None
        and latest.author_id == author.id
        and timezone.now() - latest.created_at < timedelta(seconds=window)
    )


def revision_seal(*, workflow: Workflow) -> Revision | None:
    """Closes the latest revision to coalescing (the author left the editor); the next save makes a new one."""
    latest = workflow.revisions.order_by("-number").first()
    if latest is not None and not latest.sealed:
        Revision.objects.filter(id=latest.id).update(sealed=True)
        latest.sealed = True
    return latest


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
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "name": workflow.name,
        "description": workflow.description,
        "revision": revision.number if revision else None,
        "flow": flow,
        "secrets_to_set": unset,
    }
    # Where it runs, so the export is a flow file (docs/flows-as-code.md) that deploys to the same place.
    current = workflow.deployments.filter(is_current=True).select_related("environment")
    environment = (
        current.order_by("-environment__position").values_list("environment__name", flat=True).first()
    )
    if environment:
        document["environment"] = environment
    return document


def workflow_import(
    *, organisation: Organisation, document: Any, created_by: Account | None, name: str | None = None
) -> Workflow:
    """Creates a workflow from an export: this API's document, Flomation's export wrapper
    (`flomation_export` + `flow_data`), or a bare flow as Flomation's editor saves it.

    A bare flow is `{"nodes": [...], "edges": [...]}`, optionally with `name`/`description` beside them;
    the flow is stored unchanged.
    """
    try:
        read = flow_document_read(document=document)
    except FlowDocumentError as error:
        raise ValidationError(str(error)) from None
    return workflow_create(
        organisation=organisation,
        name=name or read.name or "Imported workflow",
        description=read.description,
        flow=read.flow,
        message="Imported",
        created_by=created_by,
    )
