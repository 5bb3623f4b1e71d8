"""Trigger secrets saved with a flow: stored encrypted apart from the revision, write-only, never exported,
and moved out of revisions saved before (the data migration)."""

from __future__ import annotations

import json

import pytest

from flomation.core import models as m
from flomation.core.services.flow_secrets import (
    flow_secret_reveal,
    revisions_move_plaintext_secrets,
    revisions_restore_plaintext_secrets,
)
from flomation.core.services.queues import queue_shared
from tests.core import factories as f

pytestmark = pytest.mark.django_db

SECRET = "s3cret-signing-value-0123456789"


def hook_flow(
    value: object = SECRET, *, name: str = "hmac_secret", kind: str = "secret", **extra: object
) -> dict:
    inputs = [{"name": "authentication", "type": "string", "value": "hmac"}]
    inputs.append({"name": name, "type": kind, "value": value, **extra})
    return {
        "nodes": [
            f.node("t1", "trigger/webhook", 1, inputs),
            f.node("o1", "output/set", 3, [{"name": "name", "type": "string", "value": "x"}]),
        ],
        "edges": [{"id": "e1", "source": "t1", "target": "o1"}],
    }


def secret_entry(flow: dict, name: str = "hmac_secret") -> dict:
    inputs = flow["nodes"][0]["data"]["config"]["inputs"]
    return next(item for item in inputs if item["name"] == name)


def save(cast, as_, workflow, flow, persona: str = "member"):
    return as_(persona).post(cast.url(f"workflows/{workflow.id}/revisions/"), {"flow": flow}, format="json")


def test_a_saved_secret_is_stored_encrypted_and_the_revision_keeps_only_its_reference(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    response = save(cast, as_, workflow, hook_flow())
    assert response.status_code == 201
    assert SECRET not in json.dumps(response.json())
    stored = workflow.revisions.get(number=response.json()["number"]).flow
    assert SECRET not in json.dumps(stored)
    ref = secret_entry(stored)["value"]["secret_ref"]
    row = m.FlowSecret.objects.get(id=ref)
    assert row.workflow_id == workflow.id and row.node_id == "t1" and row.name == "hmac_secret"
    assert SECRET not in row.ciphertext
    assert flow_secret_reveal(workflow_id=workflow.id, ref=ref) == SECRET
    shown = secret_entry(response.json()["flow"])
    assert shown["set"] is True and shown["value"] == {"secret_ref": ref}


def test_a_secret_input_is_known_by_its_name_even_when_the_flow_types_it_as_a_string(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    response = save(cast, as_, workflow, hook_flow(name="api_key", kind="string"))
    assert response.status_code == 201
    assert SECRET not in json.dumps(workflow.revisions.order_by("-number").first().flow)


def test_saving_the_flow_back_as_read_keeps_the_stored_secret(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    first = save(cast, as_, workflow, hook_flow()).json()
    ref = secret_entry(first["flow"])["value"]["secret_ref"]
    again = save(cast, as_, workflow, first["flow"]).json()
    assert secret_entry(again["flow"])["value"] == {"secret_ref": ref}
    # What a client that only knows "set" sends: null with set true keeps the latest value too.
    third = save(cast, as_, workflow, hook_flow(None, set=True)).json()
    assert secret_entry(third["flow"])["value"] == {"secret_ref": ref}
    assert m.FlowSecret.objects.filter(workflow=workflow).count() == 1


def test_sending_the_same_value_again_reuses_the_stored_secret(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    first = save(cast, as_, workflow, hook_flow()).json()
    second = save(cast, as_, workflow, hook_flow()).json()
    assert secret_entry(first["flow"])["value"] == secret_entry(second["flow"])["value"]
    assert m.FlowSecret.objects.filter(workflow=workflow).count() == 1


def test_a_secret_can_be_replaced_and_cleared_and_old_revisions_keep_theirs(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    first = save(cast, as_, workflow, hook_flow()).json()
    replaced = save(cast, as_, workflow, hook_flow("another-value-999")).json()
    new_ref = secret_entry(replaced["flow"])["value"]["secret_ref"]
    assert flow_secret_reveal(workflow_id=workflow.id, ref=new_ref) == "another-value-999"
    old_ref = secret_entry(first["flow"])["value"]["secret_ref"]
    assert flow_secret_reveal(workflow_id=workflow.id, ref=old_ref) == SECRET
    cleared = save(cast, as_, workflow, hook_flow(None)).json()
    assert secret_entry(cleared["flow"]) == {
        "name": "hmac_secret",
        "type": "secret",
        "value": None,
        "set": False,
    }


def test_an_environment_secret_reference_is_kept_as_it_is(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    saved = save(cast, as_, workflow, hook_flow("${secrets.HOOK_KEY}")).json()
    assert secret_entry(saved["flow"])["value"] == "${secrets.HOOK_KEY}"
    assert secret_entry(saved["flow"])["set"] is True
    assert not m.FlowSecret.objects.filter(workflow=workflow).exists()


def test_a_reference_to_another_workflows_secret_is_refused(cast, as_, caplog):
    theirs = f.WorkflowFactory(organisation=cast.other_organisation)
    their_ref = m.FlowSecret.objects.create(workflow=theirs, node_id="t1", name="hmac_secret", ciphertext="x")
    mine = f.WorkflowFactory(organisation=cast.organisation)
    before = mine.revisions.count()
    response = save(cast, as_, mine, hook_flow({"secret_ref": str(their_ref.id)}))
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["node_id"] == "t1" and error["field"] == "hmac_secret"
    assert "enter the secret again" in error["message"]
    assert mine.revisions.count() == before
    assert any(
        "another workflow" in r.getMessage() and str(cast.organisation.id) in r.getMessage()
        for r in caplog.records
    )


def test_a_secret_given_as_an_object_is_refused_with_a_message(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    response = save(cast, as_, workflow, hook_flow({"value": "x"}))
    assert response.status_code == 400
    assert "is a secret" in response.json()["errors"][0]["message"]


def test_an_export_leaves_secrets_out_and_its_import_says_so(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    save(cast, as_, workflow, hook_flow())
    exported = as_("viewer").get(cast.url(f"workflows/{workflow.id}/export")).json()
    assert SECRET not in json.dumps(exported)
    assert secret_entry(exported["flow"])["value"] is None
    assert exported["secrets_to_set"] == [{"node_id": "t1", "input": "hmac_secret"}]
    imported = as_("member").post(cast.url("workflows/import"), {"document": exported}, format="json")
    assert imported.status_code == 201
    assert imported.json()["secrets_to_set"] == [{"node_id": "t1", "input": "hmac_secret"}]
    assert "hmac_secret of node t1" in imported.json()["warnings"][0]


def test_duplicating_gives_the_copy_its_own_stored_secrets(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    save(cast, as_, workflow, hook_flow())
    response = as_("member").post(cast.url(f"workflows/{workflow.id}/duplicate"), {}, format="json")
    copy = m.Workflow.objects.get(id=response.json()["id"])
    ref = secret_entry(copy.revisions.get().flow)["value"]["secret_ref"]
    assert m.FlowSecret.objects.get(id=ref).workflow_id == copy.id
    assert flow_secret_reveal(workflow_id=copy.id, ref=ref) == SECRET
    # and the copy can be saved back as read
    # (unchanged, so the revision it was read from answers: 200, no new revision)
    assert save(cast, as_, copy, copy.revisions.get().flow).status_code == 200


def test_the_migration_moves_plaintext_out_masks_old_records_and_can_be_reversed(cast):
    workflow = m.Workflow.objects.create(organisation=cast.organisation, name="Old", latest_revision=2)
    legacy = hook_flow()
    legacy["nodes"][0]["data"]["config"]["inputs"].append(
        {"name": "password", "type": "string", "value": "pw"}
    )
    old = m.Revision.objects.create(workflow=workflow, number=1, flow=legacy)
    clean = m.Revision.objects.create(workflow=workflow, number=2, flow=hook_flow("${secrets.K}"))
    execution = m.Execution.objects.create(
        organisation=cast.organisation, workflow=workflow, revision=old, queue=queue_shared(),
        node_results={"t1": {"outputs": {"hmac_secret": SECRET}}},
    )  # fmt: skip
    step = m.ExecutionStep.objects.create(
        execution=execution, sequence=1, node_id="t1", status="succeeded",
        inputs={"hmac_secret": SECRET}, outputs={"hmac_secret": SECRET, "note": f"key={SECRET}"},
    )  # fmt: skip

    changed = revisions_move_plaintext_secrets(step_model=m.ExecutionStep, execution_model=m.Execution)

    assert changed == 1
    old.refresh_from_db()
    assert SECRET not in json.dumps(old.flow)
    ref = secret_entry(old.flow)["value"]["secret_ref"]
    assert flow_secret_reveal(workflow_id=workflow.id, ref=ref) == SECRET
    assert secret_entry(old.flow, "password")["value"] == "pw"  # not a webhook's secret: left alone
    clean.refresh_from_db()
    assert secret_entry(clean.flow)["value"] == "${secrets.K}"
    step.refresh_from_db()
    execution.refresh_from_db()
    assert SECRET not in json.dumps([step.inputs, step.outputs, execution.node_results])
    assert step.outputs["note"] == "key=********"
    assert revisions_move_plaintext_secrets() == 0  # a second run finds nothing to do

    assert revisions_restore_plaintext_secrets() == 1
    old.refresh_from_db()
    assert secret_entry(old.flow)["value"] == SECRET


def test_the_migration_refuses_to_run_without_an_encryption_key_and_changes_nothing(cast, settings):
    workflow = m.Workflow.objects.create(organisation=cast.organisation, name="Old", latest_revision=1)
    revision = m.Revision.objects.create(workflow=workflow, number=1, flow=hook_flow())
    settings.FLOMATION_ENCRYPTION_KEYS = []
    with pytest.raises(RuntimeError, match="FLOMATION_ENCRYPTION_KEY"):
        revisions_move_plaintext_secrets()
    revision.refresh_from_db()
    assert secret_entry(revision.flow)["value"] == SECRET
