"""git/* nodes on a working copy in the run's workspace: a local bare repository over file:// (where the
operator allows it) and over ssh to an OpenSSH server started by the test; argument injection refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.executor.providers import StaticSecrets
from flomation.lib.egress import EgressPolicy
from tests.executor.integrations.servers import bare_repository, closed_port, git_https, git_log, sshd

LOCAL = EgressPolicy.build(allow=["127.0.0.0/8"], allow_local=True)


@pytest.fixture
def shared():
    """A directory the run's own uid can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="flomation-git-test-"))
    path.chmod(0o755)
    (path / "ws").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def settings(shared):
    return ExecutorSettings(
        log=lambda *a: None, egress=LOCAL, git_allow_file_urls=True, script_workspace_root=str(shared / "ws")
    )


@pytest.fixture
def origin(shared):
    bare = bare_repository(shared)
    subprocess.run(["chmod", "-R", "a+rwX", str(bare)], check=True)  # the run's uid pushes to it
    return bare


def write(name: str, text: str) -> dict:
    code = f"import os\nos.makedirs(os.path.dirname('/work/{name}'), exist_ok=True)\nopen('/work/{name}','w').write({text!r})"
    return {"code": code}


def test_clone_change_commit_and_push_over_file_urls(settings, origin):
    flow = chain(
        node("c", "git/clone", {"url": f"file://{origin}", "directory": "/work/site"}),
        node("w", "script/python", write("site/page.txt", "new page")),
        node("st", "git/status", {"directory": "site"}),
        node("a", "git/add", {"directory": "site"}),
        node("m", "git/commit", {"directory": "site", "message": "Add a page", "author_name": "Ada"}),
        node("b", "git/branch", {"directory": "site", "name": "release"}),
        node("tg", "git/tag", {"directory": "site", "name": "v1", "message": "first"}),
        node("p", "git/push", {"directory": "site"}),
        node("o", "output/set", {"name": "pushed", "value": "${m.commit}@${p.branch}"}),
    )
    result, _ = run(flow, settings=settings)
    assert result.status == "succeeded", result.error
    clone = outputs_of(result, "c")
    assert clone["branch"] == "main" and len(clone["commit"]) == 40 and clone["directory"] == "/work/site"
    status = outputs_of(result, "st")
    assert status["clean"] is False and status["changes"] == [{"status": "??", "path": "page.txt"}]
    assert outputs_of(result, "a")["staged"] == ["page.txt"]
    commit = outputs_of(result, "m")
    assert commit["committed"] is True and commit["commit"] != clone["commit"]
    assert set(outputs_of(result, "b")["branches"]) == {"main", "release"}
    assert outputs_of(result, "tg")["commit"] == commit["commit"]
    assert result.outputs == {"pushed": f"{commit['commit']}@main"}
    assert git_log(origin) == ["Add a page", "initial"]


def test_checkout_and_pull_bring_in_commits_pushed_to_another_branch(settings, origin):
    flow = chain(
        node("c", "git/clone", {"url": f"file://{origin}"}),
        node("k", "git/checkout", {"branch": "topic", "create": True}),
        node("w", "script/python", write("repo/topic.txt", "on topic")),
        node("a", "git/add", {"paths": "topic.txt"}),
        node("m", "git/commit", {"message": "Topic work"}),
        node("p", "git/push", {}),
        node("k2", "git/checkout", {"branch": "main"}),
        node("pl", "git/pull", {"branch": "topic"}),
        node("st", "git/status", {}),
    )
    result, _ = run(flow, settings=settings)
    assert result.status == "succeeded", (result.error_node_id, result.error)
    assert outputs_of(result, "k")["branch"] == "topic" and outputs_of(result, "k2")["branch"] == "main"
    pulled = outputs_of(result, "pl")
    assert pulled["updated"] is True and pulled["commit"] == outputs_of(result, "m")["commit"]
    assert pulled["branch"] == "main" and outputs_of(result, "st")["clean"] is True
    assert git_log(origin, "topic") == ["Topic work", "initial"]


def test_file_urls_are_refused_unless_the_operator_allows_them(settings, origin):
    result, _ = run(
        chain(node("c", "git/clone", {"url": f"file://{origin}"})),
        settings=settings.replace(git_allow_file_urls=False),
    )
    assert result.status == "failed" and "FLOMATION_GIT_ALLOW_FILE_URLS" in result.error
    strict = settings.replace(egress=EgressPolicy.build(allow=["127.0.0.0/8"]))
    result, _ = run(chain(node("c", "git/clone", {"url": f"file://{origin}"})), settings=strict)
    assert result.status == "failed" and "egress refused" in result.error


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"url": "ext::sh -c touch% /tmp/flomation-pwned", "directory": "x"}, "transport helpers"),
        ({"url": "-oProxyCommand=touch /tmp/flomation-pwned", "directory": "x"}, "must not start with '-'"),
        ({"url": "ssh://-oProxyCommand=touch%20%2Ftmp%2Fflomation-pwned/repo", "directory": "x"}, "host"),
        (
            {"url": "FILE_URL", "branch": "--upload-pack=touch /tmp/flomation-pwned"},
            "must not start with '-'",
        ),
    ],
)
def test_argument_injection_is_refused(settings, origin, inputs, expected):
    inputs = {k: (f"file://{origin}" if v == "FILE_URL" else v) for k, v in inputs.items()}
    result, _ = run(chain(node("c", "git/clone", inputs)), settings=settings)
    assert result.status == "failed" and expected in result.error
    assert not os.path.exists("/tmp/flomation-pwned")


def test_a_working_copy_whose_config_would_run_a_program_is_refused(settings, origin):
    flow = chain(
        node("c", "git/clone", {"url": f"file://{origin}"}),
        node(
            "w",
            "script/python",
            {
                "code": "open('/work/repo/.git/config','a').write('[core]\\n\\tfsmonitor = touch /tmp/flomation-pwned\\n')"
            },
        ),
        node("s", "git/status", {}),
    )
    result, _ = run(flow, settings=settings)
    assert result.status == "failed" and "core.fsmonitor" in result.error
    assert not os.path.exists("/tmp/flomation-pwned")


def test_a_branch_option_in_push_is_refused(settings, origin):
    flow = chain(
        node("c", "git/clone", {"url": f"file://{origin}"}),
        node("p", "git/push", {"branch": "--receive-pack=touch /tmp/flomation-pwned"}),
    )
    result, _ = run(flow, settings=settings)
    assert result.status == "failed" and "must not start with '-'" in result.error


# --- over ssh -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ssh_origin():
    with sshd() as server:
        home = Path(server.home)
        name = f"repo-{os.getpid()}.git"
        owner = int(subprocess.run(["id", "-u", server.user], capture_output=True, text=True).stdout)
        bare = bare_repository(home, name, owner=owner)
        try:
            yield server, bare
        finally:
            subprocess.run(["rm", "-rf", str(bare)], check=False)


def ssh_inputs(server, bare, **extra):
    return {
        "url": f"ssh://{server.user}@127.0.0.1:{server.port}{bare}",
        "ssh_private_key": server.private_key,
        "host_key_fingerprint": server.host_fingerprint,
        **extra,
    }


def test_clone_commit_and_push_over_ssh_with_a_key(settings, ssh_origin):
    server, bare = ssh_origin
    flow = chain(
        node("c", "git/clone", ssh_inputs(server, bare)),
        node("w", "script/python", write("repo/ssh.txt", "over ssh")),
        node("a", "git/add", {}),
        node("m", "git/commit", {"message": "Over ssh"}),
        node(
            "p",
            "git/push",
            {"ssh_private_key": server.private_key, "host_key_fingerprint": server.host_fingerprint},
        ),
        node("o", "output/set", {"name": "url", "value": "${c.url}"}),
    )
    result, recorder = run(flow, settings=settings)
    assert result.status == "succeeded", result.error
    assert git_log(bare)[0] == "Over ssh"
    assert result.outputs["url"].endswith(str(bare))
    assert "PRIVATE KEY" not in repr(recorder.events)


def test_a_stored_git_connection_is_used(settings, ssh_origin):
    server, bare = ssh_origin
    fields = {"url_prefix": f"ssh://{server.user}@127.0.0.1:{server.port}{bare.parent}/",
              "ssh_private_key": server.private_key, "host_key_fingerprint": server.host_fingerprint}  # fmt: skip
    secrets = StaticSecrets(connections={"origin": {"type": "git", "fields": fields}})
    result, _ = run(
        chain(node("c", "git/clone", {"connection": "origin", "url": bare.name})),
        settings=settings,
        secrets=secrets,
    )
    assert result.status == "succeeded", result.error
    result, _ = run(
        chain(node("c", "git/clone", {"connection": "origin", "url": "ssh://elsewhere.example/x"})),
        settings=settings,
        secrets=secrets,
    )
    assert result.status == "failed" and "not under the connection's url_prefix" in result.error


def test_a_wrong_key_an_unknown_host_key_and_a_closed_port_fail_clearly(settings, ssh_origin):
    server, bare = ssh_origin
    result, _ = run(
        chain(node("c", "git/clone", ssh_inputs(server, bare, ssh_private_key=server.other_key))),
        settings=settings,
    )
    assert result.status == "failed" and "authentication failed" in result.error
    result, _ = run(
        chain(node("c", "git/clone", ssh_inputs(server, bare, host_key_fingerprint=""))), settings=settings
    )
    assert result.status == "failed" and "is not known" in result.error
    inputs = ssh_inputs(server, bare)
    inputs["url"] = inputs["url"].replace(f":{server.port}/", f":{closed_port()}/")
    result, _ = run(chain(node("c", "git/clone", inputs)), settings=settings)
    assert result.status == "failed" and "refused the connection" in result.error


# --- over https with a token ------------------------------------------------------------------------------


@pytest.fixture
def https_origin(monkeypatch):
    with git_https() as server:
        bare = bare_repository(server.root, "site.git")
        subprocess.run(["git", "-C", str(bare), "config", "http.receivepack", "true"], check=True)
        monkeypatch.setenv("GIT_SSL_CAINFO", str(server.ca_file))  # the operator's CA bundle, as git reads it
        yield server, bare


def test_clone_and_push_over_https_with_a_token(settings, https_origin):
    server, bare = https_origin
    settings = settings.replace(egress=EgressPolicy.build(allow=["127.0.0.0/8", "::1/128"]))
    token = {"username": server.username, "token": server.token}
    flow = chain(
        node("c", "git/clone", {"url": server.url + "site.git", **token}),
        node("w", "script/python", write("repo/web.txt", "over https")),
        node("a", "git/add", {}),
        node("m", "git/commit", {"message": "Over https"}),
        node("p", "git/push", token),
        node("o", "output/set", {"name": "pushed", "value": "${p.pushed}"}),
    )
    result, recorder = run(flow, settings=settings)
    assert result.status == "succeeded", (result.error_node_id, result.error)
    assert result.outputs == {"pushed": True} and git_log(bare)[0] == "Over https"
    assert server.token not in repr(recorder.events)


def test_a_wrong_token_fails_as_authentication_without_echoing_it(settings, https_origin):
    server, _ = https_origin
    settings = settings.replace(egress=EgressPolicy.build(allow=["127.0.0.0/8", "::1/128"]))
    inputs = {"url": server.url + "site.git", "username": server.username, "token": "not-the-token-5"}
    result, _ = run(chain(node("c", "git/clone", inputs)), settings=settings)
    assert result.status == "failed" and "Authentication failed" in result.error
    assert "not-the-token-5" not in result.error
