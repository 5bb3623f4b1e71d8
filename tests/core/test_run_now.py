"""Run now: inputs checked against the manual trigger's input schema (seed 004), idempotency, NOTIFY."""

from __future__ import annotations

import json

import pytest

from flomation.core import models as m
from flomation.core.services.deployments import workflow_deploy
from tests.core import factories as f

pytestmark = pytest.mark.django_db

SCHEMA = {
    "customerId": {"type": "string", "required": True, "description": "Customer ID to process"},
    "action": {"type": "string", "enum": ["activate", "deactivate", "update"], "required": True},
    "priority": {"type": "number", "default": 5, "min": 1, "max": 10},
    "dryRun": {"type": "boolean"},
}


@pytest.fixture
def workflow(cast):
    workflow = f.WorkflowFactory(organisation=cast.organisation, revisions__flow=f.flow(SCHEMA))
    workflow_deploy(workflow=workflow, environment=cast.environment("production"), deployed_by=cast.owner)
    return workflow


def run(client, cast, workflow, inputs, environment="production", **headers):
    return client.post(
        cast.url(f"workflows/{workflow.id}/run"),
        {"environment": environment, "inputs": inputs},
        format="json",
        **headers,
    )


def test_valid_inputs_create_a_pending_execution_with_defaults_filled_in(cast, as_, workflow):
    response = run(
        as_("member"), cast, workflow, {"customerId": "c-1", "action": "activate", "dryRun": "true"}
    )
    assert response.status_code == 201, response.content
    execution = m.Execution.objects.get(id=response.json()["id"])
    assert execution.state == "pending" and execution.trigger_type == "manual"
    assert execution.environment.name == "production" and execution.deployment.is_current
    assert execution.created_by == cast.member
    data = execution.trigger_data
    assert (data["customerId"], data["action"], data["priority"], data["dryRun"], data["__node_id"]) == (
        "c-1", "activate", 5, True, "t1",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("inputs", "complaint"),
    [
        ({"action": "activate"}, "customerId: is required"),
        (
            {"customerId": "c", "action": "explode"},
            "action: must be one of 'activate', 'deactivate', 'update'",
        ),
        ({"customerId": "c", "action": "update", "priority": 11}, "priority: must be at most 10"),
        ({"customerId": "c", "action": "update", "priority": "high"}, "priority: must be a number"),
        ({"customerId": 42, "action": "update"}, "customerId: must be a string"),
        ({"customerId": "c", "action": "update", "dryRun": "maybe"}, "dryRun: must be true or false"),
        (
            {"customerId": "c", "action": "update", "colour": "red"},
            "colour: is not an input of this workflow",
        ),
    ],
)
def test_invalid_inputs_are_refused_naming_the_input(cast, as_, workflow, inputs, complaint):
    response = run(as_("member"), cast, workflow, inputs)
    assert response.status_code == 400
    assert any(complaint in message for message in response.json()["inputs"]), response.json()
    assert complaint in response.json()["detail"]
    assert not m.Execution.objects.exists()


def deployed(cast, flow):
    workflow = f.WorkflowFactory(organisation=cast.organisation, revisions__flow=flow)
    workflow_deploy(workflow=workflow, environment=cast.environment("production"), deployed_by=cast.owner)
    return workflow


def test_a_schema_in_the_older_inputschema_setting_is_still_enforced(cast, as_):
    workflow = deployed(cast, f.flow(SCHEMA, schema_in_config=True))
    refused = run(as_("member"), cast, workflow, {"customerId": "c", "action": "explode"})
    assert refused.status_code == 400 and "action: must be one of" in refused.json()["detail"]
    accepted = run(as_("member"), cast, workflow, {"customerId": "c", "action": "update"})
    assert accepted.status_code == 201
    assert m.Execution.objects.get(id=accepted.json()["id"]).trigger_data["priority"] == 5


def test_a_schema_typed_into_the_editor_as_json_text_is_enforced(cast, as_):
    fields = [
        {"name": "email", "type": "string", "required": True},
        {"name": "seats", "type": "integer", "min": 1, "default": 1},
    ]
    workflow = deployed(cast, f.flow(json.dumps(fields)))
    refused = run(as_("member"), cast, workflow, {"seats": "0"})
    assert refused.status_code == 400
    assert refused.json()["inputs"] == ["email: is required", "seats: must be at least 1"]
    accepted = run(as_("member"), cast, workflow, {"email": "ada@example.test", "seats": "3"})
    assert accepted.status_code == 201
    assert m.Execution.objects.get(id=accepted.json()["id"]).trigger_data["seats"] == 3


def test_a_malformed_schema_is_refused_saying_where_to_fix_it(cast, as_):
    workflow = deployed(cast, f.flow([{"type": "string"}]))
    response = run(as_("member"), cast, workflow, {})
    assert response.status_code == 400
    assert "input schema is not valid" in response.json()["detail"]
    assert not m.Execution.objects.exists()


def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(cast, as_, workflow):
    inputs = {"customerId": "c-1", "action": "activate"}
    first = run(as_("member"), cast, workflow, inputs, HTTP_IDEMPOTENCY_KEY="deploy-42")
    again = run(as_("member"), cast, workflow, inputs, HTTP_IDEMPOTENCY_KEY="deploy-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert m.Execution.objects.count() == 1


def test_running_in_an_environment_it_is_not_deployed_to_is_a_conflict(cast, as_, workflow):
    response = run(
        as_("member"), cast, workflow, {"customerId": "c", "action": "update"}, environment="staging"
    )
    assert response.status_code == 409
    assert "not deployed to staging" in response.json()["detail"]


def test_a_paused_workflow_does_not_run_in_an_environment(cast, as_, workflow):
    workflow.state = "paused"
    workflow.save()
    response = run(as_("member"), cast, workflow, {"customerId": "c", "action": "update"})
    assert response.status_code == 409 and "paused" in response.json()["detail"]


def test_a_test_run_without_environment_uses_the_latest_revision(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation, revisions=2)
    response = as_("member").post(
        cast.url(f"workflows/{workflow.id}/run"), {"inputs": {"anything": 1}}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["revision"] == 2 and response.json()["environment"] is None


def test_run_now_wakes_the_queue_with_notify(cast, as_, workflow, transactional_db):
    import psycopg

    from flomation.core.executions.listener import listen_params
    from flomation.core.services.queues import queue_shared

    channel = queue_shared().notify_channel
    with psycopg.connect(**listen_params(), autocommit=True) as listener:
        listener.execute(f'LISTEN "{channel}"')
        assert run(as_("member"), cast, workflow, {"customerId": "c", "action": "update"}).status_code == 201
        notices = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.channel for n in notices] == [channel]
    assert isinstance(listener, psycopg.Connection)


def test_a_test_run_finds_only_the_organisations_own_workflows_with_a_saved_revision(cast, as_):
    client = as_("owner")
    elsewhere = f.WorkflowFactory(organisation=cast.other_organisation)
    for workflow_id in (elsewhere.id, "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = client.post(cast.url(f"workflows/{workflow_id}/run"), {"inputs": {}}, format="json")
        assert response.status_code == 404, workflow_id
    unsaved = f.WorkflowFactory(organisation=cast.organisation, revisions=0)
    response = client.post(cast.url(f"workflows/{unsaved.id}/run"), {"inputs": {}}, format="json")
    assert response.status_code == 409 and "no saved revision" in response.json()["detail"]


def test_run_now_answers_with_the_stored_execution_in_a_handful_of_queries(cast, as_, workflow):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_("owner")
    run(client, cast, workflow, {"customerId": "c0", "action": "update"})  # the shared queue is made once
    with CaptureQueriesContext(connection) as queries:
        response = run(client, cast, workflow, {"customerId": "c1", "action": "update"})
    assert response.status_code == 201, response.content
    stored = m.Execution.objects.get(id=response.json()["id"])
    body = response.json()
    assert (body["state"], body["revision"], body["steps"]) == ("pending", stored.revision.number, [])
    assert body["workflow"] == {"id": str(workflow.id), "name": workflow.name}
    assert body["environment"]["name"] == "production"
    assert body["created_at"].startswith(stored.created_at.isoformat()[:19])
    from flomation.core.api.serializers.executions import ExecutionDetailSerializer

    assert body == json.loads(json.dumps(ExecutionDetailSerializer(stored).data, default=str)) | {
        "created_at": body["created_at"]
    }
    # session, membership (with account and organisation), workflow, environment, deployment, queue (read
    # once a minute outside tests' transactions), then the insert with its NOTIFY (here under a savepoint)
    assert len(queries) <= 9, "\n".join(q["sql"][:100] for q in queries)


def test_run_now_still_refuses_outsiders_viewers_and_ended_sessions(cast, as_, workflow):
    from flomation.identity.services.sessions import session_revoke
    from flomation.identity.tokens import token_decode
    from tests.core.conftest import identity_token

    inputs = {"customerId": "c1", "action": "update"}
    assert run(as_("outsider"), cast, workflow, inputs).status_code == 404
    assert run(as_("viewer"), cast, workflow, inputs).status_code == 403
    m.Group.objects.create(
        organisation=cast.organisation, name="runners", permissions=["flow.execute"]
    ).members.add(cast.viewer)
    assert run(as_("viewer"), cast, workflow, inputs).status_code == 201
    token = identity_token(cast.member)
    client = as_("member")
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token)
    assert run(client, cast, workflow, inputs).status_code == 201
    claims = token_decode(token)
    session_revoke(user_id=claims["sub"], session_id=claims["jti"])
    assert run(client, cast, workflow, inputs).status_code == 401


def test_the_workflow_read_with_its_latest_revision_is_the_orms_row(cast):
    from flomation.core.selectors.workflows import workflow_get_latest

    queue = f.QueueFactory(organisation=cast.organisation)
    workflow = f.WorkflowFactory(
        organisation=cast.organisation, revisions=3, queue=queue, notify_recipients=["a@example.test"]
    )
    loaded, revision = workflow_get_latest(organisation=cast.organisation, workflow_id=workflow.id)
    expected = m.Workflow.objects.get(id=workflow.id)
    for model, got, want in (
        (m.Workflow, loaded, expected),
        (m.Queue, loaded.queue, queue),
        (m.Revision, revision, expected.revisions.order_by("-number").first()),
    ):
        for field in model._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(want, field.attname), field.name
    assert revision.number == 3 and revision.workflow is loaded and loaded.organisation is cast.organisation
    assert not loaded._state.adding and revision.flow == expected.revisions.get(number=3).flow
