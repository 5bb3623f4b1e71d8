"""Members, invitations by email (expiring, single use) and groups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from flomation.core import models as m
from tests.core import factories as f
from tests.core.conftest import client_for

pytestmark = pytest.mark.django_db


def invite(cast, as_, email="newcomer@example.test", role="member", django_capture_on_commit_callbacks=None):
    return as_("owner").post(cast.url("invitations/"), {"email": email, "role": role}, format="json")


def test_an_invitation_is_emailed_and_accepted_once_by_its_addressee(
    cast, as_, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(cast, as_)
    assert response.status_code == 201
    token = response.json()["token"]
    assert len(mail.outbox) == 1 and token in mail.outbox[0].body
    newcomer = f.AccountFactory(email="newcomer@example.test")
    accepted = client_for(newcomer).post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert accepted.status_code == 201
    assert accepted.json()["role"] == "member" and "flow.create" in accepted.json()["permissions"]
    again = client_for(newcomer).post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert again.status_code == 409 and "already been used" in again.json()["detail"]


def test_an_invitation_for_someone_else_or_expired_is_refused(cast, as_):
    token = invite(cast, as_).json()["token"]
    stranger = f.AccountFactory(email="stranger@example.test")
    response = client_for(stranger).post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert response.status_code == 409 and "another email address" in response.json()["detail"]
    m.Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    newcomer = f.AccountFactory(email="newcomer@example.test")
    response = client_for(newcomer).post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert response.status_code == 409 and "expired" in response.json()["detail"]


def test_the_last_owner_cannot_step_down_or_be_removed(cast, as_):
    response = as_("owner").patch(cast.url(f"members/{cast.owner.id}"), {"role": "member"}, format="json")
    assert response.status_code == 409 and "at least one owner" in response.json()["detail"]
    assert as_("owner").delete(cast.url(f"members/{cast.owner.id}")).status_code == 409


def test_a_member_can_leave_but_not_remove_others(cast, as_):
    assert as_("member").delete(cast.url(f"members/{cast.viewer.id}")).status_code == 403
    assert as_("member").delete(cast.url(f"members/{cast.member.id}")).status_code == 204
    assert as_("member").get(cast.url("")).status_code == 404


def test_a_group_needs_known_permissions_and_members_of_the_organisation(cast, as_):
    response = as_("owner").post(
        cast.url("groups/"), {"name": "x", "permissions": ["flow.fly"]}, format="json"
    )
    assert response.status_code == 400 and "flow.fly" in response.json()["detail"]
    response = as_("owner").post(
        cast.url("groups/"),
        {"name": "x", "permissions": ["flow.deploy"], "members": [str(cast.outsider.id)]},
        format="json",
    )
    assert response.status_code == 400 and "Not members" in response.json()["detail"]


def test_me_lists_the_callers_organisations_and_permissions(cast, as_):
    body = as_("viewer").get("/api/v1/me").json()
    assert body["account"]["id"] == str(cast.viewer.id)
    [membership] = body["memberships"]
    assert membership["role"] == "viewer" and "flow.create" not in membership["permissions"]
