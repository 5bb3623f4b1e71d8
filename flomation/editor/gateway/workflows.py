"""Workflows and their revisions, through core's services and selectors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flomation.core import models as core
from flomation.core.selectors import workflows as wf_selectors
from flomation.core.services import flow_secrets
from flomation.core.services import workflows as wf_services
from flomation.editor.gateway import Refused
from flomation.executor.secret_inputs import flow_unset_secrets


@dataclass(frozen=True)
class WorkflowRow:
    workflow: core.Workflow
    last_run_at: Any
    last_run_state: str | None


def flow_shape(flow: Any) -> dict[str, Any]:
    """The flow if it has the React Flow shape ({nodes: [...], edges: [...]}); raises Refused otherwise."""
    if not isinstance(flow, dict) or not isinstance(flow.get("nodes", []), list):
        raise Refused("A flow is a JSON object with 'nodes' and 'edges' lists.")
    if not isinstance(flow.get("edges", []), list):
        raise Refused("A flow's 'edges' must be a list.")
    return flow


def workflow_list(
    *,
    organisation: core.Organisation,
    account: core.Account | None = None,
    search: str = "",
    include_archived: bool = False,
) -> list[WorkflowRow]:
    """The workflows with their latest execution's time and state (the list's 'last run')."""
    rows = wf_selectors.workflows_with_last_run(
        wf_selectors.workflow_list(
            organisation=organisation,
            account=account,
            search=search.strip() or None,
            include_archived=include_archived,
        )
    )
    return [WorkflowRow(w, w.last_run_at, w.last_run_state) for w in rows]


def workflow_get(*, organisation: core.Organisation, workflow_id: Any) -> core.Workflow:
    return wf_selectors.workflow_get(organisation=organisation, workflow_id=workflow_id)


def workflow_create(
    *,
    organisation: core.Organisation,
    name: str,
    author: core.Account,
    flow: dict[str, Any] | None = None,
    description: str = "",
) -> core.Workflow:
    return wf_services.workflow_create(
        organisation=organisation,
        name=name,
        description=description,
        # An empty canvas is not a valid flow, so a blank workflow starts with no revision.
        flow=flow if flow and flow.get("nodes") else None,
        created_by=author,
    )


def workflow_save(
    *,
    workflow: core.Workflow,
    flow: dict[str, Any],
    author: core.Account,
    message: str = "",
    base_revision: int | None = None,
    base_edits: int | None = None,
    seal: bool = False,
) -> core.Revision:
    """Saves the flow (a new revision, or the latest updated in place when autosaves coalesce); core
    refuses a flow that does not validate and a save based on an out-of-date revision (409)."""
    return wf_services.workflow_save(
        workflow=workflow,
        flow=flow_shape(flow),
        author=author,
        message=message,
        base_revision=base_revision,
        base_edits=base_edits,
        seal=seal,
    )


def workflow_rename(*, workflow: core.Workflow, name: str, description: str) -> None:
    wf_services.workflow_update(workflow=workflow, name=name, description=description)


def workflow_duplicate(*, workflow: core.Workflow, author: core.Account) -> core.Workflow:
    return wf_services.workflow_duplicate(workflow=workflow, created_by=author)


def workflow_archive(*, workflow: core.Workflow, archived: bool = True) -> None:
    if archived:
        wf_services.workflow_archive(workflow=workflow)
    else:
        wf_services.workflow_set_state(workflow=workflow, state=core.WorkflowState.DRAFT)


def workflow_export(*, workflow: core.Workflow) -> dict[str, Any]:
    return wf_services.workflow_export(workflow=workflow)


def workflow_managed(*, workflow: core.Workflow) -> dict[str, str] | None:
    """{kind, path, commit} when the workflow is managed in files (read only here), else None."""
    return wf_selectors.workflow_managed_in_files(workflow=workflow)


def workflow_import(
    *,
    organisation: core.Organisation,
    content: bytes,
    author: core.Account,
    name: str = "",
    filename: str = "",
) -> core.Workflow:
    """Imports this editor's export, a Flomation export or a bare React Flow file ({nodes, edges}); JSON,
    or YAML when the file's name ends in .yaml/.yml."""
    from flomation.lib.flow_document import YAML_SUFFIXES, FlowDocumentError, flow_document_parse

    try:
        text = content.decode("utf-8-sig")
        if filename.lower().endswith(YAML_SUFFIXES):
            document = flow_document_parse(text=text, filename=filename)
        else:
            document = json.loads(text)
    except FlowDocumentError as exc:
        raise Refused(f"The file is not valid YAML ({exc}).") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"The file is not valid JSON ({exc}).") from None
    return wf_services.workflow_import(
        organisation=organisation, document=document, created_by=author, name=name.strip() or None
    )


def revision_latest(*, workflow: core.Workflow) -> core.Revision | None:
    return wf_selectors.revision_list(workflow=workflow).first()


def revision_list(*, workflow: core.Workflow, limit: int = 100) -> list[core.Revision]:
    return list(wf_selectors.revision_list(workflow=workflow)[:limit])


def revision_get(*, workflow: core.Workflow, number: int) -> core.Revision:
    return wf_selectors.revision_get(workflow=workflow, number=number)


def revision_restore(*, workflow: core.Workflow, number: int, author: core.Account) -> core.Revision:
    old = revision_get(workflow=workflow, number=number)
    return workflow_save(
        workflow=workflow, flow=old.flow, author=author, message=f"Restored revision {number}"
    )


def secret_markers(*, flow: Any) -> dict[str, dict[str, Any]]:
    """node id -> input -> the stored reference of each trigger secret in a saved flow (never a value)."""
    return flow_secrets.flow_secret_markers(flow=flow)


def unset_secrets(*, workflow: core.Workflow) -> list[dict[str, str]]:
    """The trigger secret inputs of the latest revision that have no value (as an import leaves them)."""
    latest = revision_latest(workflow=workflow)
    return flow_unset_secrets(latest.flow) if latest else []
