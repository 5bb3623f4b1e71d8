"""Personas for core's tests: in one organisation an owner, a member and a viewer; an outsider who owns
another organisation. `as_` gives an API client signed in as any of them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from flomation.core import models as m
from flomation.identity.models import User
from flomation.identity.services.sessions import session_create
from tests.core import factories as f


@dataclass
class Cast:
    organisation: m.Organisation
    owner: m.Account
    member: m.Account
    viewer: m.Account
    outsider: m.Account
    other_organisation: m.Organisation

    def environment(self, name: str = "development") -> m.Environment:
        return self.organisation.environments.get(name=name)

    def url(self, rest: str = "") -> str:
        return f"/api/v1/organisations/{self.organisation.id}/{rest}"


def identity_token(account: m.Account) -> str:
    """A real identity session for the account's person (tokens are checked against live sessions)."""
    user = User.objects.filter(id=account.id).first() or User.objects.create_user(
        account.email, None, id=account.id, display_name=account.display_name
    )
    return session_create(user=user)[1]


def client_for(account: m.Account) -> APIClient:
    token = identity_token(account)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token)
    return client


@pytest.fixture
def cast(db) -> Cast:
    organisation = f.OrganisationFactory(name="Acme")
    owner = f.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    member = f.MembershipFactory(organisation=organisation, role=m.MemberRole.MEMBER).account
    viewer = f.MembershipFactory(organisation=organisation, role=m.MemberRole.VIEWER).account
    other = f.OrganisationFactory(name="Elsewhere")
    outsider = f.MembershipFactory(organisation=other, role=m.MemberRole.OWNER).account
    return Cast(organisation, owner, member, viewer, outsider, other)


@pytest.fixture
def as_(cast):
    """as_("owner") -> an APIClient signed in as that persona."""
    return lambda persona: client_for(getattr(cast, persona))
