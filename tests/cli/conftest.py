"""The `flomation` command run as a real process, against `serve --role all` (API, launch and the built-in
runner) on loopback, with a personal API token of an organisation's owner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flomation.core import models as m
from tests.core import factories as f
from tests.core.conftest import identity_token
from tests.support.servers import ROOT


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 120
) -> Result:
    """`flomation <args>` in a child process, with no configuration file but the one `env` names."""
    child_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLOMATION_URL", "FLOMATION_TOKEN"))
    }
    child_env.setdefault(
        "FLOMATION_CLI_CONFIG", str(Path(os.environ.get("TMPDIR", "/tmp")) / "absent-cli.json")
    )
    child_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "flomation.cli", *args],
        cwd=ROOT, env=child_env, input=stdin, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    return Result(done.returncode, done.stdout, done.stderr)


@dataclass
class Platform:
    url: str
    token: str
    organisation: m.Organisation
    owner: m.Account

    def env(self) -> dict[str, str]:
        return {"FLOMATION_URL": self.url, "FLOMATION_TOKEN": self.token}

    def cli(self, *args: str, **kwargs: Any) -> Result:
        return run_cli(*args, env={**self.env(), **kwargs.pop("env", {})}, **kwargs)


@pytest.fixture
def platform(transactional_db, tmp_path: Path) -> Iterator[Platform]:
    from flomation.core.services.tokens import api_token_create
    from tests.support.servers import serve

    organisation = f.OrganisationFactory(name="Acme", accept_shared_runners=True)
    owner = f.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    identity_token(owner)  # the person behind the account, whom a token acts for
    token = api_token_create(account=owner, organisation=organisation, name="ci")[1]
    env = {
        "FLOMATION_RUNNER_STATE_DIRECTORY": str(tmp_path / "runner"),
        "FLOMATION_RUNNER_EXECUTION_DIRECTORY": str(tmp_path / "runner" / "workspace"),
    }
    with serve("all", tmp_path=tmp_path, env=env, workers=2) as server:
        yield Platform(server.url, token, organisation, owner)
        (tmp_path / "server.log").write_text(server.log())


@pytest.fixture
def cli() -> Callable[..., Result]:
    return run_cli
