"""Personas for the editor's tests: an owner, a member and a viewer of Acme, and an outsider of another
organisation; `browser_for(persona)` gives a Django test client carrying that person's identity cookie."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from flomation.core import models as m
from flomation.editor.gateway import workflows as wf
from flomation.editor.starters import STARTERS
from tests.core import factories as f
from tests.core.conftest import identity_token


@dataclass
class Team:
    organisation: m.Organisation
    owner: m.Account
    member: m.Account
    viewer: m.Account
    outsider: m.Account
    other_organisation: m.Organisation


@pytest.fixture
def team(db) -> Team:
    organisation = f.OrganisationFactory(name="Acme")
    owner = f.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    member = f.MembershipFactory(organisation=organisation, role=m.MemberRole.MEMBER).account
    viewer = f.MembershipFactory(organisation=organisation, role=m.MemberRole.VIEWER).account
    other = f.OrganisationFactory(name="Elsewhere")
    outsider = f.MembershipFactory(organisation=other, role=m.MemberRole.OWNER).account
    return Team(organisation, owner, member, viewer, outsider, other)


def cookie_client(account: m.Account, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.cookies["flomation-token"] = identity_token(account)
    return client


@pytest.fixture
def browser_for(team) -> Callable[..., Client]:
    return lambda persona, **kw: cookie_client(getattr(team, persona), **kw)


@pytest.fixture
def hello(team) -> m.Workflow:
    """A workflow in Acme whose flow is the 'Hello, world' starter (manual trigger -> output/set)."""
    return wf.workflow_create(
        organisation=team.organisation, name="Hello", author=team.owner, flow=STARTERS["hello"]["flow"]
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201 - pytest hook
    """Keeps each phase's report on the test item, so fixtures can save screenshots when a test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)
