"""Workflows as portable JSON documents: export without secrets, import of an export or a bare flow."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from flomation.core.models import Account, Organisation, Workflow
from flomation.core.services.workflows import workflow_create
from flomation.executor.secret_inputs import flow_without_secrets

EXPORT_FORMAT = "flomation-workflow"
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
