"""Trigger ingress: launch, running apart, creates executions through the API with a personal API token."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from flomation.core import models as m
from flomation.core.services.deployments import workflow_deploy
from flomation.core.services.tokens import api_token_create
from tests.core import factories as f
from tests.core.conftest import client_for


@pytest.fixture
def workflow(cast):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    workflow_deploy(workflow=workflow, environment=cast.environment("production"), deployed_by=cast.owner)
    return workflow


def token_client(account: m.Account, organisation: m.Organisation) -> APIClient:
    plaintext = api_token_create(account=account, organisation=organisation, name="launch")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + plaintext)
    return client


def fire(client, cast, workflow, key="inv-1", organisation=None, **extra):
    production = cast.environment("production")
    body = {
        "environment_id": str(production.id),
        "deployment_id": str(production.deployments.get(workflow=workflow, is_current=True).id),
        "trigger_type": "webhook",
        "trigger_data": {"body": {"order": 7}},
        **extra,
    }
    org = (organisation or cast.organisation).id
    return client.post(
        f"/api/v1/organisations/{org}/workflows/{workflow.id}/executions",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_token_creates_an_execution_of_the_deployment_with_the_trigger_data(cast, workflow):
    response = fire(token_client(cast.member, cast.organisation), cast, workflow)
    assert response.status_code == 201, response.content
    execution = m.Execution.objects.get(id=response.json()["id"])
    assert execution.trigger_type == "webhook" and execution.trigger_data == {"body": {"order": 7}}
    assert execution.environment == cast.environment("production") and execution.deployment is not None
    assert execution.created_by == cast.member and execution.state == m.ExecutionState.PENDING


def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(cast, workflow):
    client = token_client(cast.member, cast.organisation)
    first = fire(client, cast, workflow)
    again = fire(client, cast, workflow)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and m.Execution.objects.count() == 1


def test_a_viewer_token_is_refused_for_want_of_flow_execute(cast, workflow):
    response = fire(token_client(cast.viewer, cast.organisation), cast, workflow)
    assert response.status_code == 403 and "flow.execute" in response.json()["detail"]


def test_an_outsiders_token_finds_nothing(cast, workflow):
    outsider = token_client(cast.outsider, cast.other_organisation)
    assert fire(outsider, cast, workflow).status_code == 404
    # Its own organisation does not hold the workflow either.
    assert fire(outsider, cast, workflow, organisation=cast.other_organisation).status_code == 404
    assert not m.Execution.objects.exists()


def test_a_session_token_is_not_accepted_for_ingress(cast, workflow):
    assert fire(client_for(cast.owner), cast, workflow).status_code == 401


def test_a_deployment_of_another_environment_is_refused(cast, workflow):
    response = fire(
        token_client(cast.member, cast.organisation),
        cast,
        workflow,
        environment_id=str(cast.environment("development").id),
    )
    assert response.status_code == 404 and "deployment" in response.json()["detail"]


def test_trigger_data_must_be_an_object(cast, workflow):
    response = fire(token_client(cast.member, cast.organisation), cast, workflow, trigger_data=[1])
    assert response.status_code == 400 and "trigger_data" in response.json()


def test_an_unknown_workflow_is_not_found(cast, workflow):
    response = token_client(cast.owner, cast.organisation).post(
        cast.url(f"workflows/{uuid.uuid4()}/executions"),
        {"environment_id": str(cast.environment("production").id), "trigger_type": "webhook"},
        format="json",
    )
    assert response.status_code == 404
