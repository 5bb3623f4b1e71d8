"""First checks of the API's shape: the caller, organisations, workflows."""

from __future__ import annotations

import pytest

from flomation.core import models as m
from tests.core import factories as f

pytestmark = pytest.mark.django_db


def test_a_first_request_creates_the_callers_account():
    from rest_framework.test import APIClient

    from flomation.identity.models import User
    from flomation.identity.services.sessions import session_create

    user = User.objects.create_user("new@example.test", None, display_name="New")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + session_create(user=user)[1])
    response = client.get("/api/v1/me")
    assert response.status_code == 200, response.content
    assert response.json()["account"]["email"] == "new@example.test"
    assert m.Account.objects.filter(email="new@example.test").exists()


def test_creating_an_organisation_makes_three_environments(as_, cast):
    response = as_("outsider").post("/api/v1/organisations/", {"name": "New Co"}, format="json")
    assert response.status_code == 201, response.content
    org = m.Organisation.objects.get(id=response.json()["id"])
    assert sorted(org.environments.values_list("name", flat=True)) == ["development", "production", "staging"]


def test_a_member_creates_a_workflow_with_a_flow(as_, cast):
    response = as_("member").post(
        cast.url("workflows/"), {"name": "Onboard", "flow": f.flow()}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["latest_revision"] == 1
    assert response.json()["state"] == "draft"
