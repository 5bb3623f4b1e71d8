"""Git sync: a real repository served by `git http-backend` behind TLS on loopback (a token in a git
connection) and a local bare repository over file:// where the operator allows it; commits pushed during
the test are deployed by the loop's handle_one(), a bad commit deploys nothing and shows its error, a
removed file pauses its workflow, and hostile repository settings never reach git."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from flomation.core import models as m
from flomation.core.loops import git_sync
from flomation.core.models import FlowSource
from flomation.core.services.connections import connection_create
from tests.core import factories as f
from tests.executor.integrations.servers import git_https, sshd
from tests.launch.servers import GIT_ENV, require_binary

pytestmark = pytest.mark.slow


class Repository:
    """A bare repository and a working copy that commits and pushes to it (as a developer would)."""

    def __init__(self, bare: Path, work: Path) -> None:
        self.bare, self.work = bare, work
        self.git("init", "-q", "--initial-branch=main", str(work), cwd=work.parent)
        self.git("init", "-q", "--bare", "--initial-branch=main", str(bare), cwd=work.parent)
        self.git("config", "http.receivepack", "true", cwd=bare)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.work.parent), **GIT_ENV}
        done = subprocess.run(
            ["git", *args], cwd=cwd or self.work, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for name, text in files.items():
            path = self.work / name
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", str(self.bare), "main")
        return self.git("rev-parse", "HEAD").strip()


def flow_file(value: str, name: str = "Orders") -> str:
    return yaml.safe_dump({"name": name, "environment": "production", "flow": f.flow(value=value)})


def deployed_value(workflow: m.Workflow) -> str:
    deployment = workflow.deployments.get(is_current=True, environment__name="production")
    return deployment.revision.flow["nodes"][1]["data"]["config"]["inputs"][1]["value"]


def sync() -> bool:
    """One iteration of the loop with the source due (as its interval or a webhook makes it)."""
    FlowSource.objects.update(next_check_at="2000-01-01T00:00:00Z")
    return git_sync.handle_one()


def source_of(cast) -> FlowSource:
    return FlowSource.objects.get(organisation=cast.organisation, kind="git")


@pytest.fixture
def https_repo(tmp_path, settings, monkeypatch):
    require_binary("git", "git")
    with git_https() as server:
        repo = Repository(server.root / "flows.git", tmp_path / "work")
        monkeypatch.setenv("GIT_SSL_CAINFO", str(server.ca_file))  # the operator's CA bundle
        settings.EGRESS_ALLOW = ["127.0.0.0/8", "::1/128"]
        yield server, repo


@pytest.fixture
def local_repo(tmp_path, settings):
    require_binary("git", "git")
    settings.GIT_ALLOW_FILE_URLS = True
    settings.EGRESS_ALLOW_LOCAL = True
    return Repository(tmp_path / "origin.git", tmp_path / "work")


def connect(as_, cast, **body) -> dict:
    answer = as_("owner").put(cast.url("git-sync"), body, format="json")
    assert answer.status_code in (200, 201), answer.content
    return answer.json()


def test_commits_pushed_over_https_with_a_token_are_deployed_with_their_commit(https_repo, cast, as_):
    server, repo = https_repo
    connection = connection_create(
        organisation=cast.organisation, name="flows-repo", type="git",
        fields={"url_prefix": server.url, "username": server.username, "token": server.token},
    )  # fmt: skip
    first = repo.commit({"flows/orders.yaml": flow_file("v1"), "README.md": "docs"})
    connected = connect(
        as_, cast, repository_url=server.url + "flows.git", branch="main", sub_path="flows",
        connection=str(connection.id), interval_seconds=60,
    )  # fmt: skip
    assert connected["webhook_secret"] and connected["status"] == "pending"

    assert sync() is True
    orders = m.Workflow.objects.get(organisation=cast.organisation, source_path="orders.yaml")
    assert deployed_value(orders) == "v1"
    assert orders.revisions.get().commit_sha == first

    second = repo.commit({"flows/orders.yaml": flow_file("v2")})
    sync()
    assert deployed_value(orders) == "v2"
    assert orders.revisions.order_by("-number").first().commit_sha == second
    shown = as_("viewer").get(cast.url("git-sync")).json()
    assert (shown["status"], shown["commit_sha"], shown["errors"]) == ("synced", second, [])
    assert server.token not in json.dumps(shown)
    revisions = as_("viewer").get(cast.url(f"workflows/{orders.id}/revisions/")).json()["results"]
    assert revisions[0]["commit_sha"] == second


def test_a_wrong_token_is_an_error_on_the_source_without_the_token(https_repo, cast, as_):
    server, repo = https_repo
    connection = connection_create(
        organisation=cast.organisation, name="flows-repo", type="git",
        fields={"url_prefix": server.url, "username": server.username, "token": "wrong-token-123"},
    )  # fmt: skip
    repo.commit({"orders.yaml": flow_file("v1")})
    connect(as_, cast, repository_url=server.url + "flows.git", connection=str(connection.id))
    sync()
    shown = as_("owner").get(cast.url("git-sync")).json()
    assert shown["status"] == "failed"
    assert "could not be read" in shown["errors"][0]["message"]
    assert "wrong-token-123" not in json.dumps(shown)
    assert not m.Workflow.objects.filter(organisation=cast.organisation).exists()


def test_a_bad_commit_deploys_nothing_and_shows_the_error_then_a_fix_deploys(local_repo, cast, as_):
    repo = local_repo
    repo.commit({"orders.yaml": flow_file("v1"), "billing.yaml": flow_file("b1", "Billing")})
    connect(as_, cast, repository_url=f"file://{repo.bare}")
    sync()
    orders = m.Workflow.objects.get(organisation=cast.organisation, source_path="orders.yaml")

    bad = repo.commit({"orders.yaml": flow_file("v2"), "billing.yaml": "name: Billing\nflow: [\n"})
    sync()
    shown = as_("owner").get(cast.url("git-sync")).json()
    assert shown["status"] == "failed" and shown["commit_sha"] == bad
    [problem] = shown["errors"]
    assert problem["file"] == "billing.yaml" and problem["line"] == 3
    assert deployed_value(orders) == "v1"  # the good file of the bad commit waits too

    repo.commit({"billing.yaml": flow_file("b2", "Billing")})
    sync()
    assert deployed_value(orders) == "v2"
    assert as_("owner").get(cast.url("git-sync")).json()["status"] == "synced"


def test_a_file_removed_in_a_commit_pauses_its_workflow(local_repo, cast, as_):
    repo = local_repo
    repo.commit({"orders.yaml": flow_file("v1"), "billing.yaml": flow_file("b1", "Billing")})
    connect(as_, cast, repository_url=f"file://{repo.bare}")
    sync()
    repo.commit({"billing.yaml": None})
    sync()
    billing = m.Workflow.objects.get(organisation=cast.organisation, source_path="billing.yaml")
    assert billing.state == "paused"
    assert m.Workflow.objects.get(source_path="orders.yaml").state == "active"


def test_an_unchanged_head_is_fetched_but_makes_no_revision(local_repo, cast, as_):
    repo = local_repo
    repo.commit({"orders.yaml": flow_file("v1")})
    connect(as_, cast, repository_url=f"file://{repo.bare}")
    sync()
    sync()
    assert m.Revision.objects.filter(workflow__organisation=cast.organisation).count() == 1
    assert source_of(cast).checked_at is not None


def test_a_git_managed_workflow_refuses_saves_over_the_api(local_repo, cast, as_):
    repo = local_repo
    repo.commit({"orders.yaml": flow_file("v1")})
    connect(as_, cast, repository_url=f"file://{repo.bare}")
    sync()
    orders = m.Workflow.objects.get(organisation=cast.organisation, source_path="orders.yaml")
    answer = as_("owner").post(
        cast.url(f"workflows/{orders.id}/revisions/"), {"flow": f.flow(value="x")}, format="json"
    )
    assert answer.status_code == 409
    assert "orders.yaml in the organisation's Git repository" in answer.json()["detail"]

    as_("owner").delete(cast.url("git-sync"))  # disconnected: the workflow is the editor's again
    answer = as_("owner").post(
        cast.url(f"workflows/{orders.id}/revisions/"), {"flow": f.flow(value="x")}, format="json"
    )
    assert answer.status_code == 201
    assert as_("owner").get(cast.url(f"workflows/{orders.id}/")).json()["managed_in_files"] is None


def test_a_url_outside_the_connections_prefix_is_refused(cast, as_):
    connection = connection_create(
        organisation=cast.organisation, name="flows-repo", type="git",
        fields={"url_prefix": "https://git.example.com/acme/", "token": "t0ken-value"},
    )  # fmt: skip
    body = {"repository_url": "https://elsewhere.example/acme/flows.git", "connection": str(connection.id)}
    answer = as_("owner").put(cast.url("git-sync"), body, format="json")
    assert answer.status_code == 400
    assert "not under the connection's URL prefix" in answer.json()["repository_url"][0]


def test_only_one_process_syncs_a_source_at_a_time(local_repo, cast, as_):
    from flomation.core.services.flow_sources.lease import flow_source_claim

    repo = local_repo
    repo.commit({"orders.yaml": flow_file("v1")})
    connect(as_, cast, repository_url=f"file://{repo.bare}")
    held = flow_source_claim(kind="git")
    assert held is not None
    assert git_sync.handle_one() is False  # the other process's lease is live
    assert not m.Workflow.objects.filter(organisation=cast.organisation).exists()


def test_commits_over_ssh_with_a_key_and_a_pinned_host_key_are_deployed(tmp_path, settings, cast, as_):
    settings.EGRESS_ALLOW = ["127.0.0.0/8"]
    with sshd() as server:
        bare = Path(server.home) / f"flows-{uuid.uuid4().hex[:8]}.git"
        repo = Repository(bare, tmp_path / "work")
        try:
            head = repo.commit({"orders.yaml": flow_file("over ssh")})
            subprocess.run(["chown", "-R", f"{server.user}:{server.user}", str(bare)], check=True)
            prefix = f"ssh://{server.user}@127.0.0.1:{server.port}{bare.parent}/"
            connection = connection_create(
                organisation=cast.organisation, name="flows-ssh", type="git",
                fields={"url_prefix": prefix, "ssh_private_key": server.private_key,
                        "host_key_fingerprint": server.host_fingerprint},
            )  # fmt: skip
            connect(as_, cast, repository_url=prefix + bare.name, connection=str(connection.id))
            sync()
            shown = as_("owner").get(cast.url("git-sync")).json()
            assert (shown["status"], shown["commit_sha"]) == ("synced", head), shown["errors"]
            orders = m.Workflow.objects.get(organisation=cast.organisation, source_path="orders.yaml")
            assert deployed_value(orders) == "over ssh"
            assert "PRIVATE KEY" not in json.dumps(shown)
        finally:
            subprocess.run(["rm", "-rf", str(bare)], check=False)


# --- the push webhook -------------------------------------------------------------------------------------


def test_a_signed_github_push_deploys_at_once_and_a_bad_signature_does_not(local_repo, cast, as_):
    connected = connect(as_, cast, repository_url=f"file://{local_repo.bare}")
    FlowSource.objects.update(next_check_at="2100-01-01T00:00:00Z")
    local_repo.commit({"orders.yaml": flow_file("pushed")})
    assert git_sync.handle_one() is False  # not due: the interval has not passed
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    secret = connected["webhook_secret"].encode()
    client = as_("viewer").__class__()  # no credentials: the Git host calls it

    path = f"/api/v1/git-sync/{connected['id']}/webhook"
    refused = client.post(path, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256="sha256=00")
    assert refused.status_code == 401
    assert source_of(cast).next_check_at.year == 2100

    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    accepted = client.post(path, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)
    assert accepted.status_code == 202
    assert git_sync.handle_one() is True  # the push made it due
    orders = m.Workflow.objects.get(organisation=cast.organisation, source_path="orders.yaml")
    assert deployed_value(orders) == "pushed"


def test_a_gitlab_push_is_accepted_with_its_token_only(local_repo, cast, as_):
    connected = connect(as_, cast, repository_url=f"file://{local_repo.bare}")
    client = as_("viewer").__class__()
    path = f"/api/v1/git-sync/{connected['id']}/webhook"
    assert (
        client.post(path, b"{}", content_type="application/json", HTTP_X_GITLAB_TOKEN="nope").status_code
        == 401
    )
    assert client.post(path, b"{}", content_type="application/json").status_code == 401
    ok = client.post(
        path, b"{}", content_type="application/json", HTTP_X_GITLAB_TOKEN=connected["webhook_secret"]
    )
    assert ok.status_code == 202
    assert client.post(f"/api/v1/git-sync/{uuid.uuid4()}/webhook", b"{}", content_type="application/json",
                       HTTP_X_GITLAB_TOKEN=connected["webhook_secret"]).status_code == 401  # fmt: skip


# --- hostile settings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("repository_url", "--upload-pack=touch /tmp/pwned", "must not start with '-'"),
        ("repository_url", "ext::sh -c touch% /tmp/pwned", "transport helpers such as 'ext::'"),
        ("repository_url", "ssh://-oProxyCommand=touch%20/tmp/pwned/repo.git", "valid host name"),
        ("repository_url", "file:///etc", "file URLs are turned off"),
        ("repository_url", "https://ada:secret@git.example.com/flows.git", "not in the URL"),
        ("branch", "--output=/tmp/pwned", "must not start with '-'"),
        ("branch", "main..other", "'..'"),
        ("sub_path", "../../etc", "'..'"),
        ("sub_path", "/etc", "absolute"),
        ("sub_path", "-flows", "may start with '-'"),
    ],
)
def test_hostile_repository_settings_are_refused_with_the_field_named(cast, as_, field, value, reason):
    body = {"repository_url": "https://git.example.com/flows.git", "branch": "main", "sub_path": ""}
    body[field] = value
    answer = as_("owner").put(cast.url("git-sync"), body, format="json")
    assert answer.status_code == 400, answer.content
    assert reason in " ".join(answer.json()[field])
    assert not FlowSource.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["ext::sh -c touch% {marker}", "--upload-pack=touch {marker};", "file://{bare}"],
)
def test_a_hostile_url_stored_behind_the_api_never_runs_a_command(
    local_repo, cast, as_, settings, tmp_path, url
):
    """Even a row written past the API (an old version, a database edit) is checked again before git runs."""
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    settings.GIT_ALLOW_FILE_URLS = False
    local_repo.commit({"orders.yaml": flow_file("v1")})
    FlowSource.objects.create(
        organisation=cast.organisation, kind="git",
        repository_url=url.format(marker=marker, bare=local_repo.bare), branch="main",
    )  # fmt: skip
    sync()
    source = source_of(cast)
    assert source.status == "failed" and "could not be read" in source.errors[0]["message"]
    assert not marker.exists()
    assert not m.Workflow.objects.filter(organisation=cast.organisation).exists()


def test_a_sub_path_missing_from_the_commit_is_an_error(local_repo, cast, as_):
    local_repo.commit({"orders.yaml": flow_file("v1")})
    connect(as_, cast, repository_url=f"file://{local_repo.bare}", sub_path="flows")
    sync()
    [problem] = source_of(cast).errors
    assert "the folder is not in commit" in problem["message"]


def test_a_symlink_in_the_repository_is_not_followed(local_repo, cast, as_):
    local_repo.commit({"orders.yaml": flow_file("v1")})
    (local_repo.work / "passwd.yaml").symlink_to("/etc/passwd")
    local_repo.git("add", "-A")
    local_repo.git("commit", "-q", "-m", "link")
    local_repo.git("push", "-q", str(local_repo.bare), "main")
    connect(as_, cast, repository_url=f"file://{local_repo.bare}")
    sync()
    [problem] = source_of(cast).errors
    assert problem["file"] == "passwd.yaml" and "symbolic link" in problem["message"]


def test_a_failed_fetch_clears_once_the_repository_can_be_read_again(local_repo, cast, as_, settings):
    local_repo.commit({"orders.yaml": flow_file("v1")})
    connect(as_, cast, repository_url=f"file://{local_repo.bare}")
    sync()
    settings.GIT_ALLOW_FILE_URLS = False  # the operator turns local repositories off, then on again
    sync()
    assert source_of(cast).status == "failed"
    settings.GIT_ALLOW_FILE_URLS = True
    sync()
    source = source_of(cast)
    assert (source.status, source.errors) == ("synced", [])
    assert m.Revision.objects.filter(workflow__organisation=cast.organisation).count() == 1
