"""A git_poll trigger's url and branch reach the git command line: the attacks, performed over real HTTP.

A member saves and deploys a workflow through the API of a live server; a `url` of `--upload-pack=<command>`
(or `-u<command>`, `ext::<command>`, an ssh host `-oProxyCommand=...`) would make git run the command as the
launch process's user. Deploying such a url is refused with 400; a trigger that holds one anyway (stored
before these checks existed, or a local path after the operator turned local repositories off) is refused
at every poll with a clear error, and git never runs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from flomation.identity.models import User
from flomation.identity.services.sessions import session_create
from flomation.launch.loops import LaunchLoop
from flomation.launch.models import Trigger
from tests.http import api_session
from tests.launch.conftest import flow_with, trigger_node
from tests.launch.servers import GitRepository

REFUSED = "the repository url must be an https, ssh or git URL"


def attacks(marker: Path) -> list[tuple[str, str]]:
    """(url, what the refusal says) for urls that try to make git run `touch <marker>`. An unprotected
    poller runs the first; git 2.39 stops the others itself, an older git or another setting may not."""
    return [
        (f"--upload-pack=touch {marker};", "it must not start with '-'"),
        (f"-utouch {marker};", "it must not start with '-'"),
        (f"ext::sh -c touch% {marker}", "transport helpers such as 'ext::' are not allowed"),
        (f"ssh://-oProxyCommand=touch%20{marker}/repo.git", "it needs a valid host name"),
    ]


class Api:
    """A signed-in person's calls to the live server."""

    def __init__(self, base: str) -> None:
        user = User.objects.create_user(f"ada-{uuid.uuid4().hex[:6]}@example.com", None, display_name="Ada")
        self.base = base
        self.session = api_session()
        self.session.headers["Authorization"] = "Bearer " + session_create(user=user)[1]
        answer = self.call("post", "/api/v1/organisations/", {"name": "Acme"})
        assert answer.status_code == 201, answer.text
        self.organisation = answer.json()["id"]

    def call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        return self.session.request(method, self.base + path, json=body, timeout=30)

    def workflow(self, inputs: dict[str, object]) -> str:
        flow = flow_with(trigger_node("trigger/git_poll", inputs))
        answer = self.call(
            "post",
            f"/api/v1/organisations/{self.organisation}/workflows/",
            {"name": "Repo watch", "flow": flow},
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def deploy(self, workflow: str) -> requests.Response:
        path = f"/api/v1/organisations/{self.organisation}/workflows/{workflow}/deployments/"
        return self.call("post", path, {"environment": "production"})

    def poller(self, workflow: str) -> dict:
        answer = self.call("get", f"/launch/api/triggers?workflow={workflow}")
        assert answer.status_code == 200, answer.text
        (trigger,) = answer.json()["results"]
        return trigger["poller"]


@pytest.fixture
def api(live_server, settings, tmp_path) -> Iterator[Api]:
    settings.ROOT_URLCONF = "flomation.urls"  # the API and launch, as `serve --role all` routes them
    settings.VAR_DIR = tmp_path / "var"
    api = Api(live_server.url)
    yield api
    api.session.close()  # a kept-alive connection holds a server thread and its database session


def poll_once(hours_ahead: int = 1) -> None:
    """One tick of the launch loop, hours ahead so that the trigger is due."""
    later = timezone.now() + timedelta(hours=hours_ahead)
    assert LaunchLoop(owner="test", now=lambda: later).handle_one() is True


@pytest.mark.parametrize("attack", range(4))
def test_deploying_a_url_that_would_run_a_command_is_refused(api, tmp_path, attack, caplog):
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    url, reason = attacks(marker)[attack]
    workflow = api.workflow({"url": url, "branch": "main", "interval": 60})
    with caplog.at_level(logging.WARNING, logger="flomation.launch"):
        answer = api.deploy(workflow)
    assert answer.status_code == 400, answer.text
    (error,) = answer.json()["errors"]
    assert (error["node_id"], error["field"]) == ("t1", "url")
    assert error["message"].startswith(REFUSED) and reason in error["message"]
    assert not Trigger.objects.filter(workflow_id=workflow).exists()
    history = api.call("get", f"/api/v1/organisations/{api.organisation}/workflows/{workflow}/deployments/")
    assert history.json()["results"] == []
    (logged,) = [r.getMessage() for r in caplog.records if "deployment refused" in r.getMessage()]
    assert api.organisation in logged and "t1" in logged
    assert not marker.exists()


def test_deploying_a_branch_that_looks_like_an_option_is_refused(api, tmp_path):
    workflow = api.workflow({"url": "https://git.example.com/acme/orders.git", "branch": "--output=/tmp/x"})
    answer = api.deploy(workflow)
    assert answer.status_code == 400, answer.text
    (error,) = answer.json()["errors"]
    assert error["field"] == "branch" and "must not start with '-'" in error["message"]


@pytest.mark.parametrize("attack", range(4))
def test_a_stored_url_that_would_run_a_command_is_refused_at_every_poll(api, tmp_path, attack, caplog):
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    url, reason = attacks(marker)[attack]
    workflow = api.workflow({"url": "https://git.example.com/acme/orders.git", "branch": "main"})
    assert api.deploy(workflow).status_code == 201
    # As a trigger deployed before deploy-time checks existed holds it.
    trigger = Trigger.objects.get(workflow_id=workflow)
    Trigger.objects.filter(id=trigger.id).update(config={**trigger.config, "url": url})
    with caplog.at_level(logging.WARNING, logger="flomation.launch"):
        poll_once()
    assert not marker.exists()
    last_error = api.poller(workflow)["last_error"]
    assert REFUSED in last_error and reason in last_error
    assert "fatal" not in last_error and "git ls-remote" not in last_error  # git never ran
    (logged,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert trigger.public_id in logged and str(trigger.organisation_id) in logged
    assert Trigger.objects.get(id=trigger.id).next_run_at > timezone.now() + timedelta(minutes=1)


@pytest.mark.usefixtures("local_servers_allowed")  # the egress policy's own allowance
def test_a_stored_branch_that_looks_like_an_option_is_refused_at_every_poll(api, tmp_path, settings):
    settings.GIT_ALLOW_FILE_URLS = True
    repo = GitRepository(tmp_path)
    repo.commit("initial")
    workflow = api.workflow({"url": str(repo.bare), "branch": "main"})
    assert api.deploy(workflow).status_code == 201
    Trigger.objects.filter(workflow_id=workflow).update(
        config={"url": str(repo.bare), "branch": "--output=x"}
    )
    poll_once()
    last_error = api.poller(workflow)["last_error"]
    assert "the branch must be a valid Git branch name; it must not start with '-'" in last_error


@pytest.mark.usefixtures("local_servers_allowed")
def test_local_repositories_work_only_while_the_operator_allows_them(api, tmp_path, settings):
    repo = GitRepository(tmp_path)
    repo.commit("initial")
    workflow = api.workflow({"url": str(repo.bare), "branch": "main"})
    refused = api.deploy(workflow)
    assert refused.status_code == 400 and "FLOMATION_GIT_ALLOW_FILE_URLS" in refused.json()["detail"]
    settings.GIT_ALLOW_FILE_URLS = True
    assert api.deploy(workflow).status_code == 201
    poll_once()
    poller = api.poller(workflow)
    assert poller["last_polled_at"] and not poller["last_error"]
    settings.GIT_ALLOW_FILE_URLS = (
        False  # the operator turns it off again: the trigger stops reading the disk
    )
    poll_once(hours_ahead=3)
    last_error = api.poller(workflow)["last_error"]
    assert "local paths are turned off on this server (FLOMATION_GIT_ALLOW_FILE_URLS)" in last_error
