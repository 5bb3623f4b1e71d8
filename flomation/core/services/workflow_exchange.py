"""Workflows as portable JSON documents: export without secrets, import of an export or a bare flow."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from flomation.core.models import Account, Organisation, Workflow
from flomation.core.services.workflows import workflow_create
from flomation.executor.secret_inputs import flow_without_secrets
from flomation.lib.flow_document import EXPORT_FORMAT, FlowDocumentError, flow_document_read

EXPORT_VERSION = 1


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
