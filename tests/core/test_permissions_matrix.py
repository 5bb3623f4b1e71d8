"""Owner, member, viewer and outsider against every endpoint of an organisation.

An outsider always gets 404 (the organisation's existence is not revealed); a member without the
permission gets 403; a member with it is never refused for permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from flomation.core import models as m
from flomation.core.services.connections import connection_create
from flomation.core.services.secrets import secret_set, variable_set
from flomation.core.services.tokens import api_token_create
from tests.core import factories as f

pytestmark = pytest.mark.django_db

ALL, MEMBER, OWNER = "viewer", "member", "owner"
RANK = {"viewer": 0, "member": 1, "owner": 2}


@dataclass
class World:
    workflow: m.Workflow
    execution: m.Execution
    environment: m.Environment
    queue: m.Queue
    runner: m.Runner
    group: m.Group
    invitation: m.Invitation
    token: m.ApiToken
    connection: m.Connection


@pytest.fixture
def world(cast) -> World:
    org = cast.organisation
    workflow = f.WorkflowFactory(organisation=org, revisions=2)
    environment = cast.environment("development")
    m.Deployment.objects.create(
        workflow=workflow, environment=environment, revision=workflow.revisions.get(number=1)
    )
    m.Deployment.objects.create(
        workflow=workflow,
        environment=environment,
        revision=workflow.revisions.get(number=2),
        is_current=False,
    )
    queue = f.QueueFactory(organisation=org)
    execution = f.ExecutionFactory(workflow=workflow, queue=queue, state=m.ExecutionState.SUCCEEDED)
    f.StepFactory(execution=execution)
    variable_set(environment=environment, name="REGION", value="eu")
    secret_set(environment=environment, name="API_KEY", value="s3cr3t-value")
    group = m.Group.objects.create(organisation=org, name="deployers", permissions=["flow.deploy"])
    invitation = m.Invitation.objects.create(
        organisation=org, email="x@example.test", token_hash="h" * 64, expires_at="2999-01-01T00:00:00Z"
    )
    token, _ = api_token_create(account=cast.viewer, organisation=org, name="ci")
    connection = connection_create(
        organisation=org, name="mail", type="smtp", fields={"host": "127.0.0.1", "security": "none"}
    )
    return World(
        workflow,
        execution,
        environment,
        queue,
        f.RunnerFactory(queue=queue),
        group,
        invitation,
        token,
        connection,
    )


# (method, path under the organisation, body, least role allowed)
ENDPOINTS: list[tuple[str, str, Any, str]] = [
    ("get", "", None, ALL),
    ("patch", "", {"name": "Renamed"}, OWNER),
    ("get", "permissions", None, ALL),
    ("get", "members/", None, ALL),
    ("patch", "members/{viewer}", {"role": "viewer"}, OWNER),
    ("get", "invitations/", None, OWNER),
    ("post", "invitations/", {"email": "new@example.test", "role": "member"}, OWNER),
    ("delete", "invitations/{invitation}", None, OWNER),
    ("get", "groups/", None, ALL),
    ("post", "groups/", {"name": "g2", "permissions": ["flow.view"]}, OWNER),
    ("get", "groups/{group}", None, ALL),
    ("put", "groups/{group}", {"name": "g3", "permissions": []}, OWNER),
    ("delete", "groups/{group}", None, OWNER),
    ("get", "tokens/", None, ALL),
    ("post", "tokens/", {"name": "laptop"}, ALL),
    ("get", "workflows/", None, ALL),
    ("post", "workflows/", {"name": "New"}, MEMBER),
    ("post", "workflows/import", {"document": f.flow()}, MEMBER),
    ("get", "workflows/{workflow}/", None, ALL),
    ("patch", "workflows/{workflow}/", {"description": "x"}, MEMBER),
    ("delete", "workflows/{workflow}/", None, OWNER),
    ("post", "workflows/{workflow}/duplicate", {}, MEMBER),
    ("put", "workflows/{workflow}/favourite", None, ALL),
    ("delete", "workflows/{workflow}/favourite", None, ALL),
    ("get", "workflows/{workflow}/export", None, ALL),
    ("get", "workflows/{workflow}/revisions/", None, ALL),
    ("post", "workflows/{workflow}/revisions/", {"flow": f.flow(), "message": "m"}, MEMBER),
    ("get", "workflows/{workflow}/revisions/1", None, ALL),
    ("get", "workflows/{workflow}/deployments/", None, ALL),
    ("post", "workflows/{workflow}/deployments/", {"environment": "staging"}, OWNER),
    ("post", "workflows/{workflow}/rollback", {"environment": "development"}, OWNER),
    ("post", "workflows/{workflow}/promote", {"source": "development"}, OWNER),
    ("post", "workflows/{workflow}/run", {"environment": "development"}, MEMBER),
    ("get", "environments/", None, ALL),
    ("post", "environments/", {"name": "qa"}, OWNER),
    ("get", "environments/{environment}/", None, ALL),
    ("patch", "environments/{environment}/", {"position": 5}, OWNER),
    ("delete", "environments/{environment}/", None, OWNER),
    ("get", "environments/{environment}/variables/", None, ALL),
    ("put", "environments/{environment}/variables/REGION", {"value": "us"}, OWNER),
    ("delete", "environments/{environment}/variables/REGION", None, OWNER),
    ("get", "environments/{environment}/secrets/", None, ALL),
    ("put", "environments/{environment}/secrets/API_KEY", {"value": "new"}, OWNER),
    ("delete", "environments/{environment}/secrets/API_KEY", None, OWNER),
    ("get", "connection-types", None, ALL),
    ("get", "connections/", None, ALL),
    ("post", "connections/", {"name": "db", "type": "imap", "fields": {"host": "h", "username": "u"}}, OWNER),
    ("get", "connections/{connection}", None, ALL),
    ("patch", "connections/{connection}", {"fields": {"port": 2525}}, OWNER),
    ("delete", "connections/{connection}", None, OWNER),
    ("post", "connections/{connection}/test", None, MEMBER),
    ("get", "executions/", None, ALL),
    ("get", "executions/{execution}/", None, ALL),
    ("get", "executions/{execution}/steps", None, ALL),
    ("get", "executions/{execution}/events", None, ALL),
    ("post", "executions/{execution}/cancel", None, MEMBER),
    ("post", "executions/{execution}/rerun", None, MEMBER),
    ("post", "executions/{execution}/resume", {}, MEMBER),
    ("get", "queues/", None, ALL),
    ("post", "queues/", {"name": "edge"}, OWNER),
    ("get", "queues/{queue}/", None, ALL),
    ("patch", "queues/{queue}/", {"name": "renamed"}, OWNER),
    ("delete", "queues/{queue}/", None, OWNER),
    ("get", "queues/{queue}/registration-code", None, OWNER),
    ("post", "queues/{queue}/registration-code", None, OWNER),
    ("get", "runners/", None, ALL),
    ("get", "runners/{runner}", None, ALL),
    ("patch", "runners/{runner}", {"enabled": False}, OWNER),
]


def _path(template: str, cast: Any, world: World) -> str:
    return template.format(
        viewer=cast.viewer.id,
        invitation=world.invitation.id,
        group=world.group.id,
        workflow=world.workflow.id,
        environment=world.environment.id,
        execution=world.execution.id,
        queue=world.queue.id,
        runner=world.runner.id,
        connection=world.connection.id,
    )


def _call(client: Any, method: str, url: str, body: Any) -> Any:
    response = (
        getattr(client, method)(url, body, format="json")
        if body is not None
        else getattr(client, method)(url)
    )
    if hasattr(response, "streaming_content"):
        response.close()
    return response


@pytest.mark.parametrize("persona", ["owner", "member", "viewer", "outsider"])
@pytest.mark.parametrize(
    ("method", "template", "body", "least"), ENDPOINTS, ids=[f"{e[0]} {e[1]}" for e in ENDPOINTS]
)
def test_each_persona_gets_what_its_role_allows(cast, world, as_, persona, method, template, body, least):
    response = _call(as_(persona), method, cast.url(_path(template, cast, world)), body)
    if persona == "outsider":
        assert response.status_code == 404, response.content
    elif RANK[persona] < RANK[least]:
        assert response.status_code == 403, response.content
        assert "permission" in response.json()["detail"]
    else:
        assert response.status_code not in (401, 403, 404), response.content
        assert response.status_code < 500


def test_an_outsider_cannot_reach_an_object_through_their_own_organisation(cast, world, as_):
    url = f"/api/v1/organisations/{cast.other_organisation.id}/workflows/{world.workflow.id}/"
    assert as_("outsider").get(url).status_code == 404


def test_an_anonymous_caller_is_asked_to_authenticate(cast, client):
    response = client.get(cast.url("workflows/"))
    assert response.status_code == 401


def test_a_group_grants_a_member_a_permission_their_role_lacks(cast, world, as_):
    url = cast.url(f"workflows/{world.workflow.id}/deployments/")
    assert as_("member").post(url, {"environment": "staging"}, format="json").status_code == 403
    world.group.members.add(cast.member)
    assert as_("member").post(url, {"environment": "staging"}, format="json").status_code == 201
