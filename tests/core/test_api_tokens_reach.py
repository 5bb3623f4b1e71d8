"""A CI job with a personal `flo_` API token reads the schema, finds the webhook URL it just deployed and
uses launch's management API, over real HTTP; the token still reaches only its own organisation."""

from __future__ import annotations

import pytest
import requests

from flomation.core import models as m
from flomation.core.services.deployments import workflow_deploy
from flomation.core.services.tokens import api_token_create
from tests.core import factories as f
from tests.launch.conftest import flow_with, trigger_node

pytestmark = pytest.mark.django_db(transaction=True)


def token_for(account: m.Account, organisation: m.Organisation) -> str:
    return api_token_create(account=account, organisation=organisation, name="ci")[1]


@pytest.fixture
def deployed(live_server, settings):
    settings.LAUNCH_URL = live_server.url
    organisation = f.OrganisationFactory(name="Acme")
    owner = f.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    workflow = f.WorkflowFactory(
        organisation=organisation, revisions__flow=flow_with(trigger_node("trigger/webhook", node_id="hook"))
    )
    environment = organisation.environments.get(name="production")
    workflow_deploy(workflow=workflow, environment=environment, revision_number=1, deployed_by=owner)
    return live_server.url, organisation, owner, workflow


def get(url: str, token: str, **params: str) -> requests.Response:
    return requests.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_personal_api_token_reads_the_openapi_schema(deployed):
    base, organisation, owner, _ = deployed
    response = get(f"{base}/api/v1/schema/", token_for(owner, organisation))
    assert response.status_code == 200 and b"openapi" in response.content


def test_a_ci_job_finds_the_webhook_url_it_deployed(deployed):
    base, organisation, owner, workflow = deployed
    token = token_for(owner, organisation)
    listed = get(f"{base}/api/v1/organisations/{organisation.id}/workflows/{workflow.id}/triggers", token)
    assert listed.status_code == 200, listed.text
    (hook,) = listed.json()["results"]
    assert hook["node_id"] == "hook" and hook["environment"]["name"] == "production"
    assert "/launch/webhook/" in hook["url"]
    assert (
        requests.post(hook["url"].replace("http://testserver", base), json={}, timeout=10).status_code < 400
    )

    from_launch = get(f"{base}/launch/api/triggers", token, workflow=str(workflow.id))
    assert from_launch.status_code == 200 and from_launch.json()["results"][0]["url"] == hook["url"]


def test_the_token_of_another_organisation_learns_nothing(deployed):
    base, organisation, owner, workflow = deployed
    elsewhere = f.OrganisationFactory(name="Elsewhere")
    m.Membership.objects.create(organisation=elsewhere, account=owner, role="owner")
    token = token_for(owner, elsewhere)  # the same person, a token of their other organisation
    assert (
        get(
            f"{base}/api/v1/organisations/{organisation.id}/workflows/{workflow.id}/triggers", token
        ).status_code
        == 404
    )
    assert get(f"{base}/launch/api/triggers", token, workflow=str(workflow.id)).status_code == 404
