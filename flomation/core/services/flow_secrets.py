"""Trigger secrets saved with a flow: kept out of revisions, encrypted with the project's key set, write-only.

When a flow is saved, each secret input of a trigger node (declared once on the node, see
`flomation.executor.secret_inputs`) is rewritten before the revision is stored:

* a plaintext value is encrypted into a `FlowSecret` row and replaced by `{"secret_ref": "<id>"}`;
* `{"secret_ref": "<id>"}` naming a row of this workflow is kept as it is (the secret is unchanged);
* `null` with `"set": true` (what a read shows for a set secret) keeps the latest revision's value;
* `${secrets.NAME}` names an environment secret: kept, and resolved where the trigger runs;
* `null`, `""` or `{"secret_ref": null}` leaves the secret unset (clears it).

`flow_secret_reveal` is internal: launch reads a trigger's secrets with it at deploy time. No API answer,
export or log line carries a value.
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction

from flomation.core.models import FlowSecret, Revision, Workflow
from flomation.core.services.errors import FlowInvalid
from flomation.executor import secret_inputs as si
from flomation.lib import crypto

logger = logging.getLogger(__name__)

MAX_SECRET_LENGTH = 64 * 1024


def _inputs_by_node(flow: Any) -> dict[tuple[str, str], Any]:
    return {
        (node_id, str(item.get("name"))): item.get("value")
        for node_id, _, item in si.trigger_secret_inputs(flow)
    }


def flow_secrets_store(*, workflow: Workflow, flow: Any, previous_flow: Any = None) -> Any:
    """A copy of `flow` with every trigger secret input stored encrypted and replaced by its reference.

    `previous_flow` is the workflow's latest stored flow: an input sent back as "set" (value null) keeps
    its value from there, and a plaintext equal to the value already stored reuses that row. Raises
    FlowInvalid naming the node and input when a reference is not one of this workflow's secrets or a
    value cannot be a secret; nothing is written then.
    """
    if not isinstance(flow, dict):
        return flow
    stored = copy.deepcopy(flow)
    previous = _inputs_by_node(previous_flow)
    problems: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], str, str, str]] = []
    wanted_refs: set[str] = set()
    for node_id, _action, item in si.trigger_secret_inputs(stored):
        name = str(item.get("name"))
        value = item.get("value")
        keep = item.pop("set", None) is True
        if value is None and keep:
            value = previous.get((node_id, name))
        if si.secret_ref(value):
            wanted_refs.add(si.secret_ref(value))  # type: ignore[arg-type]
            item["value"] = {si.REF_KEY: si.secret_ref(value)}
        elif si.is_blank(value):
            item["value"] = None
        elif si.environment_reference(value) is not None:
            item["value"] = value.strip()
        elif isinstance(value, dict | list):
            problems.append(
                {
                    "node_id": node_id,
                    "field": name,
                    "message": f"input '{name}' is a secret: give it as text, a ${{secrets.NAME}} reference "
                    'or {"secret_ref": "<id>"} as read back',
                }
            )
        else:
            text = value if isinstance(value, str) else json.dumps(value)  # a number or true/false
            if len(text) > MAX_SECRET_LENGTH:
                problems.append(
                    {"node_id": node_id, "field": name, "message": f"input '{name}' is longer than 64 KiB"}
                )
                continue
            pending.append((item, node_id, name, text))
    if wanted_refs:
        owned = {
            str(ref)
            for ref in FlowSecret.objects.filter(
                workflow=workflow, id__in=_valid_uuids(wanted_refs)
            ).values_list("id", flat=True)
        }
        for node_id, _action, item in si.trigger_secret_inputs(stored):
            ref = si.secret_ref(item.get("value"))
            if ref and ref not in owned:
                logger.warning(
                    "refused a flow referring to a secret of another workflow: organisation %s workflow %s "
                    "node %s input %s",
                    workflow.organisation_id,
                    workflow.id,
                    node_id,
                    item.get("name"),
                )
                problems.append(
                    {
                        "node_id": node_id,
                        "field": str(item.get("name")),
                        "message": f"input '{item.get('name')}' refers to a secret this workflow does not have; "
                        "enter the secret again",
                    }
                )
    if problems:
        raise FlowInvalid(problems)
    if pending:
        _store_plaintexts(workflow=workflow, pending=pending, previous=previous)
    return stored


def _valid_uuids(values: set[str]) -> list[str]:
    found = []
    for value in values:
        try:
            found.append(str(uuid.UUID(value)))
        except (TypeError, ValueError):
            continue
    return found


def _store_plaintexts(
    *,
    workflow: Workflow,
    pending: list[tuple[dict[str, Any], str, str, str]],
    previous: dict[tuple[str, str], Any],
) -> None:
    keys = settings.FLOMATION_ENCRYPTION_KEYS
    with transaction.atomic():
        for item, node_id, name, text in pending:
            ref = si.secret_ref(previous.get((node_id, name)))
            if ref and flow_secret_reveal(workflow_id=workflow.id, ref=ref) == text:
                item["value"] = {si.REF_KEY: ref}  # the same value again (an editor re-sending what it typed)
                continue
            row = FlowSecret.objects.create(
                workflow=workflow, node_id=node_id, name=name, ciphertext=crypto.encrypt(keys, text)
            )
            item["value"] = {si.REF_KEY: str(row.id)}


def flow_secret_reveal(*, workflow_id: Any, ref: str) -> str | None:
    """The plaintext of a stored trigger secret of that workflow, or None. Internal: never for API output."""
    if not _valid_uuids({ref}):
        return None
    ciphertext = (
        FlowSecret.objects.filter(workflow_id=workflow_id, id=ref)
        .values_list("ciphertext", flat=True)
        .first()
    )
    if ciphertext is None:
        return None
    return crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, ciphertext)


def flow_secrets_copy(*, source: Workflow, target: Workflow, flow: Any) -> Any:
    """A copy of `flow` (of `source`) whose stored secrets are copied to `target` (duplicating a workflow)."""
    copied = copy.deepcopy(flow)
    for node_id, _action, item in si.trigger_secret_inputs(copied):
        ref = si.secret_ref(item.get("value"))
        if not ref:
            continue
        row = FlowSecret.objects.filter(workflow=source, id__in=_valid_uuids({ref})).first()
        if row is None:
            item["value"] = None
            continue
        twin = FlowSecret.objects.create(
            workflow=target, node_id=node_id, name=row.name, ciphertext=row.ciphertext
        )
        item["value"] = {si.REF_KEY: str(twin.id)}
    return copied


def flow_secret_markers(*, flow: Any) -> dict[str, dict[str, Any]]:
    """node id -> input name -> stored value, for each trigger secret input (references only)."""
    found: dict[str, dict[str, Any]] = {}
    for node_id, _action, item in si.trigger_secret_inputs(flow):
        found.setdefault(node_id, {})[str(item.get("name"))] = item.get("value")
    return found


# --- moving plaintext out of stored revisions (a data migration calls these with its own models) ---------


def revisions_move_plaintext_secrets(
    *,
    revision_model: Any = Revision,
    secret_model: Any = FlowSecret,
    step_model: Any = None,
    execution_model: Any = None,
    batch_size: int = 200,
) -> int:
    """Encrypts every plaintext trigger secret left in stored revisions into `secret_model` rows, rewrites
    the revisions to refer to them, and masks those values in what the revisions' executions recorded
    (steps, node results, checkpoints: triggers used to echo their inputs as outputs). Returns how many
    revisions changed.

    Safe to run again: a revision with nothing in plaintext is left alone. One revision is one transaction.
    """
    keys = settings.FLOMATION_ENCRYPTION_KEYS
    changed = 0
    rows = revision_model.objects.order_by("pk").only("pk", "workflow_id", "flow")
    for revision in rows.iterator(chunk_size=batch_size):
        plain = [
            (node_id, item)
            for node_id, _action, item in si.trigger_secret_inputs(revision.flow)
            if si.is_plaintext(item.get("value"))
        ]
        if not plain:
            continue
        if not keys:
            raise RuntimeError(
                "Stored revisions hold trigger secrets in plaintext and FLOMATION_ENCRYPTION_KEY is not set: "
                "set it, then run the migration again (nothing was changed)."
            )
        with transaction.atomic():
            values: set[str] = set()
            for node_id, item in plain:
                value = item["value"]
                text = value if isinstance(value, str) else json.dumps(value)
                row = secret_model.objects.create(
                    workflow_id=revision.workflow_id,
                    node_id=node_id,
                    name=str(item.get("name")),
                    ciphertext=crypto.encrypt(keys, text),
                )
                item["value"] = {si.REF_KEY: str(row.id)}
                values.add(text)
            revision_model.objects.filter(pk=revision.pk).update(flow=revision.flow)
            _mask_records(step_model, execution_model, revision.pk, values)
        changed += 1
    return changed


def _mask_records(step_model: Any, execution_model: Any, revision_id: Any, values: set[str]) -> None:
    from flomation.executor.masking import Masker

    masker = Masker()
    for value in values:
        masker.add(value)
    if step_model is not None:
        steps = step_model.objects.filter(execution__revision_id=revision_id).only("pk", "inputs", "outputs")
        for step in steps.iterator(chunk_size=500):
            inputs, outputs = masker.data(step.inputs), masker.data(step.outputs)
            if inputs != step.inputs or outputs != step.outputs:
                step_model.objects.filter(pk=step.pk).update(inputs=inputs, outputs=outputs)
    if execution_model is not None:
        executions = execution_model.objects.filter(revision_id=revision_id).only(
            "pk", "outputs", "node_results", "checkpoint"
        )
        for execution in executions.iterator(chunk_size=500):
            masked = {
                field: masker.data(getattr(execution, field))
                for field in ("outputs", "node_results", "checkpoint")
            }
            if any(masked[field] != getattr(execution, field) for field in masked):
                execution_model.objects.filter(pk=execution.pk).update(**masked)


def revisions_restore_plaintext_secrets(
    *, revision_model: Any = Revision, secret_model: Any = FlowSecret
) -> int:
    """The reverse of `revisions_move_plaintext_secrets`: puts the stored values back into the revisions
    (for a schema rollback that drops the FlowSecret table, so no secret is lost). Returns revisions changed."""
    keys = settings.FLOMATION_ENCRYPTION_KEYS
    changed = 0
    for revision in (
        revision_model.objects.order_by("pk").only("pk", "workflow_id", "flow").iterator(chunk_size=200)
    ):
        touched = False
        for _node_id, _action, item in si.trigger_secret_inputs(revision.flow):
            ref = si.secret_ref(item.get("value"))
            if not ref:
                continue
            row = secret_model.objects.filter(
                workflow_id=revision.workflow_id, id__in=_valid_uuids({ref})
            ).first()
            if row is not None:
                item["value"] = crypto.decrypt(keys, row.ciphertext)
                touched = True
        if touched:
            revision_model.objects.filter(pk=revision.pk).update(flow=revision.flow)
            changed += 1
    return changed
