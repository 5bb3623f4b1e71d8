"""Deployments (seed 004): deploy revision N with a tag and notes, history, rollback, promotion, CI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from flomation.core import models as m
from flomation.core.services.deployments import deployment_promote, deployment_rollback, workflow_deploy
from flomation.core.signals import deployment_activated
from flomation.lib import crypto
from tests.core import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def activations():
    seen: list[m.Deployment] = []

    def record(sender, deployment, **kwargs):
        seen.append(deployment)

    deployment_activated.connect(record)
    yield seen
    deployment_activated.disconnect(record)


@pytest.fixture
def workflow(cast):
    return f.WorkflowFactory(organisation=cast.organisation, revisions=3)


def test_deploying_publishes_a_revision_with_tag_and_notes(cast, as_, workflow, activations):
    response = as_("owner").post(
        cast.url(f"workflows/{workflow.id}/deployments/"),
        {"environment": "production", "revision": 2, "version_tag": "v1.2.0", "notes": "Add retry logic"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["revision"], body["version_tag"], body["notes"], body["kind"]) == (
        2,
        "v1.2.0",
        "Add retry logic",
        "deploy",
    )
    assert body["environment"]["name"] == "production" and body["deployed_by"]["id"] == str(cast.owner.id)
    workflow.refresh_from_db()
    assert workflow.state == "active"
    assert [d.id for d in activations] == [m.Deployment.objects.get().id]


def test_a_new_deployment_replaces_the_current_one_and_history_keeps_both(cast, as_, workflow):
    env = cast.environment("production")
    workflow_deploy(workflow=workflow, environment=env, revision_number=1, deployed_by=cast.owner)
    workflow_deploy(
        workflow=workflow, environment=env, revision_number=3, notes="three", deployed_by=cast.owner
    )
    history = (
        as_("viewer")
        .get(cast.url(f"workflows/{workflow.id}/deployments/?environment={env.id}"))
        .json()["results"]
    )
    assert [(d["revision"], d["is_current"]) for d in history] == [(3, True), (1, False)]


def test_rollback_goes_back_to_the_previous_deployed_revision(cast, as_, workflow, activations):
    env = cast.environment("production")
    workflow_deploy(
        workflow=workflow, environment=env, revision_number=1, version_tag="v1", deployed_by=cast.owner
    )
    workflow_deploy(
        workflow=workflow, environment=env, revision_number=3, version_tag="v3", deployed_by=cast.owner
    )
    response = as_("owner").post(
        cast.url(f"workflows/{workflow.id}/rollback"), {"environment": "production"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["revision"], response.json()["version_tag"], response.json()["kind"]) == (
        1,
        "v1",
        "rollback",
    )
    current = m.Deployment.objects.get(workflow=workflow, environment=env, is_current=True)
    assert current.revision.number == 1
    assert len(activations) == 3 and activations[-1] == current


def test_rollback_to_a_revision_never_deployed_there_is_refused(cast, workflow):
    env = cast.environment("production")
    workflow_deploy(workflow=workflow, environment=env, revision_number=3, deployed_by=cast.owner)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="never deployed"):
        deployment_rollback(workflow=workflow, environment=env, revision_number=2, deployed_by=cast.owner)


def test_rollback_with_nothing_deployed_is_a_conflict(cast, as_, workflow):
    response = as_("owner").post(
        cast.url(f"workflows/{workflow.id}/rollback"), {"environment": "staging"}, format="json"
    )
    assert response.status_code == 409
    assert "not deployed to staging" in response.json()["detail"]


def test_promotion_copies_the_current_revision_to_the_next_environment(cast, as_, workflow, activations):
    workflow_deploy(
        workflow=workflow, environment=cast.environment("development"), revision_number=2, version_tag="v2",
        deployed_by=cast.owner,
    )  # fmt: skip
    response = as_("owner").post(
        cast.url(f"workflows/{workflow.id}/promote"), {"source": "development"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["environment"]["name"], body["revision"], body["version_tag"], body["kind"]) == (
        "staging", 2, "v2", "promotion",
    )  # fmt: skip
    deployment_promote(workflow=workflow, source=cast.environment("staging"), deployed_by=cast.owner)
    assert (
        m.Deployment.objects.get(
            workflow=workflow, environment__name="production", is_current=True
        ).revision.number
        == 2
    )
    with pytest.raises(Exception, match="last environment"):
        deployment_promote(workflow=workflow, source=cast.environment("production"), deployed_by=cast.owner)
    assert len(activations) == 3


def test_deploying_an_archived_workflow_is_refused(cast, as_, workflow):
    workflow.state = "archived"
    workflow.save()
    response = as_("owner").post(
        cast.url(f"workflows/{workflow.id}/deployments/"), {"environment": "staging"}, format="json"
    )
    assert response.status_code == 409


def test_an_unknown_environment_is_not_found(cast, as_, workflow):
    response = as_("owner").post(
        cast.url(f"workflows/{workflow.id}/deployments/"), {"environment": "moon"}, format="json"
    )
    assert response.status_code == 404


# --- personal API tokens and the CI endpoint -------------------------------------------------------


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token)
    return client


def test_a_token_is_shown_once_and_stored_hashed(cast, as_):
    response = as_("owner").post(cast.url("tokens/"), {"name": "github", "lifetime_days": 30}, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    assert token.startswith("flo_")
    stored = m.ApiToken.objects.get(id=response.json()["id"])
    assert stored.token_hash == crypto.sha256_hex(token) and token not in str(stored.__dict__)
    listing = as_("owner").get(cast.url("tokens/")).json()["results"]
    assert listing[0]["name"] == "github" and "token" not in listing[0]


def test_ci_deploys_with_a_token_and_environment_name(cast, as_, workflow, activations):
    token = as_("owner").post(cast.url("tokens/"), {"name": "ci"}, format="json").json()["token"]
    response = token_client(token).post(
        "/api/v1/deploy",
        {"workflow": str(workflow.id), "environment": "staging", "version_tag": "abc123", "notes": "from CI"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["version_tag"], response.json()["revision"]) == ("abc123", 3)
    assert len(activations) == 1


def test_a_token_reaches_only_its_own_organisation(cast, as_):
    token = (
        as_("outsider")
        .post(f"/api/v1/organisations/{cast.other_organisation.id}/tokens/", {"name": "ci"}, format="json")
        .json()["token"]
    )
    client = token_client(token)
    assert client.get(f"/api/v1/organisations/{cast.other_organisation.id}/workflows/").status_code == 200
    # Even an organisation the person belongs to is out of the token's reach.
    m.Membership.objects.create(organisation=cast.organisation, account=cast.outsider, role="owner")
    assert client.get(cast.url("workflows/")).status_code == 404


def test_a_revoked_or_expired_token_is_refused(cast, as_, workflow):
    created = as_("owner").post(cast.url("tokens/"), {"name": "ci"}, format="json").json()
    client = token_client(created["token"])
    assert client.get(cast.url("workflows/")).status_code == 200
    assert as_("owner").delete(cast.url(f"tokens/{created['id']}")).status_code == 204
    assert client.get(cast.url("workflows/")).status_code == 401
    other = as_("owner").post(cast.url("tokens/"), {"name": "old"}, format="json").json()
    m.ApiToken.objects.filter(id=other["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_client(other["token"]).get(cast.url("workflows/")).status_code == 401


def test_a_token_cannot_mint_more_tokens(cast, as_):
    token = as_("owner").post(cast.url("tokens/"), {"name": "ci"}, format="json").json()["token"]
    assert token_client(token).post(cast.url("tokens/"), {"name": "more"}, format="json").status_code == 403


def test_a_viewers_token_cannot_deploy(cast, as_, workflow):
    token = as_("viewer").post(cast.url("tokens/"), {"name": "ci"}, format="json").json()["token"]
    response = token_client(token).post(
        "/api/v1/deploy", {"workflow": str(workflow.id), "environment": "staging"}, format="json"
    )
    assert response.status_code == 403
