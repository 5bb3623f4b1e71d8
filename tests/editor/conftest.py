"""Personas for the editor's tests: an owner, a member and a viewer of Acme, and an outsider of another
organisation; `browser_for(persona)` gives a Django test client carrying that person's identity cookie."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from flomation.core import models as m
from flomation.editor.gateway import workflows as wf
from flomation.editor.starters import STARTERS
from tests.core import factories as f
from tests.core.conftest import identity_token
from tests.support.browser import chromium
from tests.support.servers import ROOT

ARTIFACTS = ROOT / "test-artifacts"


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


@contextlib.contextmanager
def serving_all(tmp_path: Path, workers: int = 2, **env: str) -> Iterator[str]:
    """`serve --role all` (web roles, the api loops and the built-in runner) against the test database,
    with `env` on top of the suite's; its log is kept as server.log in `tmp_path`."""
    from tests.support.servers import serve

    env = {
        "FLOMATION_RUNNER_STATE_DIRECTORY": str(tmp_path / "runner"),
        "FLOMATION_RUNNER_EXECUTION_DIRECTORY": str(tmp_path / "runner" / "workspace"),
        "LOG_LEVEL": "INFO",
        **env,
    }
    with serve("all", tmp_path=tmp_path, env=env, workers=workers) as server:
        yield server.url
        (tmp_path / "server.log").write_text(server.log())


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[str]:
    with serving_all(tmp_path) as url:
        yield url


@pytest.fixture
def chrome(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Headless Chromium at 1440x900; a failing test leaves a screenshot and the page's HTML in test-artifacts/."""
    with chromium(width=1440, height=900) as driver:
        try:
            yield driver
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is None or report.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                with contextlib.suppress(Exception):
                    driver.save_screenshot(str(ARTIFACTS / f"{request.node.name}.png"))
                    (ARTIFACTS / f"{request.node.name}.html").write_text(driver.page_source)
