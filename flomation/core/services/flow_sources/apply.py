"""Applying a set of flow files to an organisation: each changed file becomes a revision and a deployment,
a file that is gone pauses its workflow, and any problem anywhere deploys nothing (the set is one change,
like a commit, so flows that call each other never run half old and half new)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from flomation.core.models import Environment, FlowSource, Revision, Workflow, WorkflowState
from flomation.core.services.deployments import workflow_deploy
from flomation.core.services.errors import Conflict
from flomation.core.services.flow_sources.files import FileProblem, FlowFile, FlowFileInvalid, flow_file_parse
from flomation.core.services.workflows import (
    workflow_create,
    workflow_save,
    workflow_set_state,
    workflow_update,
)

logger = logging.getLogger(__name__)


@dataclass
class SyncOutcome:
    """What one sync did: workflow names deployed and paused, or the problems that stopped it."""

    deployed: list[str] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class LeaseLost(Exception):
    """Another process took the source over (our lease expired): this one must not write."""


def files_digest(*, files: dict[str, bytes], default_environment: str) -> str:
    """One digest of a whole set of files (paths and contents), to tell at once whether anything changed."""
    digest = hashlib.sha256(default_environment.encode() + b"\0")
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()


def _parse_all(source: FlowSource, files: dict[str, bytes]) -> tuple[list[FlowFile], list[FileProblem]]:
    parsed, problems = [], []
    for path in sorted(files):
        try:
            parsed.append(
                flow_file_parse(
                    path=path, content=files[path], default_environment=source.default_environment
                )
            )
        except FlowFileInvalid as error:
            problems.extend(error.problems)
    environments = {e.name: e for e in Environment.objects.filter(organisation_id=source.organisation_id)}
    for item in parsed:
        if item.environment not in environments:
            known = ", ".join(sorted(environments)) or "none"
            problems.append(
                FileProblem(
                    item.path, f"no environment {item.environment!r} (this organisation has: {known})"
                )
            )
    return parsed, problems


def flow_source_apply(
    *,
    source: FlowSource,
    files: dict[str, bytes],
    commit_sha: str = "",
    lease_token: uuid.UUID | None = None,
    read_problems: list[FileProblem] | None = None,
) -> SyncOutcome:
    """Deploys the changed files of `source` and pauses the workflows whose file is gone, all in one
    transaction, and records the outcome on the source. Problems in any file deploy nothing.

    `lease_token`: the caller's lease on the source; if another process holds it now, raises LeaseLost and
    nothing is written. `read_problems`: files that could not even be read (they stop the sync too)."""
    outcome = SyncOutcome()
    parsed, problems = _parse_all(source, files)
    outcome.problems = [*(read_problems or []), *problems]
    if not outcome.problems:
        try:
            with transaction.atomic():
                _fence(source, lease_token)
                _apply(source, parsed, commit_sha, outcome)
        except (ValidationError, Conflict) as error:  # e.g. an archived workflow refusing a deployment
            outcome.problems = [FileProblem(getattr(error, "path", ""), " ".join(_messages(error)))]
            outcome.deployed, outcome.paused = [], []
    _record(source, outcome, commit_sha, lease_token)
    return outcome


def _messages(error: Exception) -> list[str]:
    return list(getattr(error, "messages", None) or [str(error)])


def _fence(source: FlowSource, lease_token: uuid.UUID | None) -> None:
    rows = FlowSource.objects.select_for_update().filter(id=source.id)
    if lease_token is not None:
        rows = rows.filter(lease_token=lease_token)
    if not rows.exists():
        raise LeaseLost(f"the lease on flow source {source.id} was taken over")


def _apply(source: FlowSource, parsed: list[FlowFile], commit_sha: str, outcome: SyncOutcome) -> None:
    managed = {w.source_path: w for w in Workflow.objects.filter(source=source).select_for_update()}
    environments = {e.name: e for e in Environment.objects.filter(organisation_id=source.organisation_id)}
    where = f"commit {commit_sha[:12]}" if commit_sha else "the flows folder"
    for item in parsed:
        workflow = managed.get(item.path)
        if workflow is not None and workflow.source_hash == item.digest:
            continue
        try:
            _deploy_one(source, workflow, item, environments[item.environment], commit_sha, where)
        except (ValidationError, Conflict) as error:
            error.path = item.path  # type: ignore[attr-defined]
            raise
        outcome.deployed.append(item.name)
    present = {item.path for item in parsed}
    for path, workflow in managed.items():
        if path in present or workflow.state not in (WorkflowState.ACTIVE, WorkflowState.PUBLISHED):
            continue
        workflow_set_state(workflow=workflow, state=WorkflowState.PAUSED)
        # An empty hash marks "paused because its file went": the file coming back deploys and resumes it.
        Workflow.objects.filter(id=workflow.id).update(source_hash="")
        outcome.paused.append(workflow.name)


def _deploy_one(
    source: FlowSource,
    workflow: Workflow | None,
    item: FlowFile,
    environment: Environment,
    commit_sha: str,
    where: str,
) -> None:
    message = f"{item.path} from {where}"[:500]
    if workflow is None:
        workflow = workflow_create(
            organisation=source.organisation, name=item.name, description=item.description, created_by=None
        )
        Workflow.objects.filter(id=workflow.id).update(source=source, source_path=item.path)
        workflow.source_id, workflow.source_path = source.id, item.path
    # Resumed: a workflow paused because its file went, or archived by hand while its file stayed (the
    # file is the truth). A workflow a person paused stays paused through new deployments.
    resume = workflow.state == WorkflowState.ARCHIVED or (
        workflow.state == WorkflowState.PAUSED and workflow.source_hash == ""
    )
    if workflow.state == WorkflowState.ARCHIVED:
        workflow_set_state(workflow=workflow, state=WorkflowState.DRAFT)
    if (workflow.name, workflow.description) != (item.name, item.description):
        workflow_update(workflow=workflow, name=item.name, description=item.description)
    revision = workflow_save(
        workflow=workflow, flow=item.flow, author=None, message=message, seal=True, source_id=source.id
    )
    if commit_sha:
        Revision.objects.filter(id=revision.id).update(commit_sha=commit_sha)
    workflow_deploy(
        workflow=workflow,
        environment=environment,
        revision_number=revision.number,
        notes=f"Deployed from {where}",
        deployed_by=None,
    )
    workflow.refresh_from_db(fields=["state"])
    if resume and workflow.state == WorkflowState.PAUSED:
        workflow_set_state(workflow=workflow, state=WorkflowState.ACTIVE)
    Workflow.objects.filter(id=workflow.id).update(source_hash=item.digest)


def _record(source: FlowSource, outcome: SyncOutcome, commit_sha: str, lease_token: uuid.UUID | None) -> None:
    now = timezone.now()
    changes: dict[str, Any] = {"checked_at": now}
    if outcome.ok:
        changes.update(status=FlowSource.Status.SYNCED, errors=[], synced_at=now)
    else:
        changes.update(status=FlowSource.Status.FAILED, errors=[p.to_dict() for p in outcome.problems])
        logger.warning(
            "flow source %s: nothing deployed: %s", source.id, "; ".join(map(str, outcome.problems))[:2000]
        )
    if commit_sha:
        changes["commit_sha"] = commit_sha
    rows = FlowSource.objects.filter(id=source.id)
    if lease_token is not None:
        rows = rows.filter(lease_token=lease_token)
    rows.update(**changes)
    for name, value in changes.items():
        setattr(source, name, value)


@transaction.atomic
def flow_source_delete(*, source: FlowSource) -> None:
    """Removes a source; the workflows it managed stay as they are and become editable in the editor again."""
    Workflow.objects.filter(source=source).update(source=None, source_path="", source_hash="")
    source.delete()
