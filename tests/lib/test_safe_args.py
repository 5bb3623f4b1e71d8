"""Command-line values from flows: repository URLs, branch names and commit ids are checked for what they
claim to be and can never pass for an option; git itself runs with only the allowed protocols."""

from __future__ import annotations

import subprocess

import pytest

from flomation.lib.safe_args import (
    GIT_SSH_COMMAND,
    UnsafeArgument,
    argv,
    git_branch_name,
    git_environment,
    git_object_id,
    git_program,
    git_repository_url,
    redact_url,
)
from tests.launch.servers import GitRepository

ALLOWED = "the repository url must be an https, ssh or git URL"


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/orders.git",
        "https://x-access-token:ghp_secret@github.com/acme/orders.git",
        "ssh://git@git.example.com:2222/acme/orders.git",
        "ssh://git@[2001:db8::1]/acme/orders.git",
        "git://git.example.com/orders.git",
        "git@github.com:acme/orders.git",
        "git.example.com:orders.git",
    ],
)
def test_it_accepts_https_ssh_git_and_scp_like_urls(url):
    assert git_repository_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("--upload-pack=touch /tmp/x;", "it must not start with '-'"),
        ("-uhttps://x", "it must not start with '-'"),
        ("ext::sh -c touch% /tmp/x", "transport helpers such as 'ext::' are not allowed"),
        ("fd::3", "transport helpers such as 'fd::' are not allowed"),
        ("https://example.com/a.git\n--upload-pack=x", "must not contain spaces, line breaks or control"),
        ("https://example.com/a\tb", "must not contain spaces, line breaks or control"),
        ("https://example.com/a\u202eb", "must not contain spaces, line breaks or control"),
        ("http://example.com/a.git", "not http"),
        ("ftp://example.com/a.git", "not ftp"),
        ("ssh://-oProxyCommand=touch%20x/a", "it needs a valid host name"),
        ("ssh://%2doProxyCommand=touch%20x/a", "it needs a valid host name"),
        ("ssh://-oProxyCommand@example.com/a", "its user name must not start with '-'"),
        ("-oProxyCommand=x@example.com:a", "it must not start with '-'"),
        ("git@example.com:-upload", "not starting with '-'"),
        ("https:///a.git", "it needs a valid host name"),
        ("https://example.com:http/a.git", "its host or port cannot be read"),
        ("/srv/orders.git", "local paths are turned off on this server (FLOMATION_GIT_ALLOW_FILE_URLS)"),
        ("file:///srv/orders.git", "file URLs are turned off on this server (FLOMATION_GIT_ALLOW_FILE_URLS)"),
        ("", "none was given"),
    ],
)
def test_it_refuses_anything_else_and_says_why(url, reason):
    with pytest.raises(UnsafeArgument) as refused:
        git_repository_url(url)
    assert str(refused.value).startswith(ALLOWED) and reason in str(refused.value)


def test_local_repositories_only_where_the_operator_allows_them():
    assert git_repository_url("/srv/orders.git", allow_local=True) == "/srv/orders.git"
    assert git_repository_url("file:///srv/orders.git", allow_local=True) == "file:///srv/orders.git"
    for url in ("srv/orders.git", "file://elsewhere/srv/orders.git", "--upload-pack=x", "ext::x"):
        with pytest.raises(UnsafeArgument, match="or file URL"):
            git_repository_url(url, allow_local=True)


def test_a_refusal_never_repeats_the_password():
    with pytest.raises(UnsafeArgument) as refused:
        git_repository_url("http://ada:hunter2@example.com/a.git")
    assert "hunter2" not in str(refused.value)
    assert redact_url("https://ada:hunter2@example.com/a.git") == "https://example.com/a.git"


@pytest.mark.parametrize("branch", ["main", "release/2026.12", "feature/ada-login", "v1.2.3"])
def test_it_accepts_branch_names_git_accepts(branch):
    assert git_branch_name(branch) == branch
    assert (
        subprocess.run(["git", "check-ref-format", "--branch", branch], capture_output=True).returncode == 0
    )


@pytest.mark.parametrize(
    "branch",
    ["--output=/tmp/x", "-b", "a..b", "a b", "a:b", "a*", "a?", "a[b", "a\\b", "~a", "a^", "@", "a@{1}",
     ".hidden", "a/.b", "a.lock", "a/", "/a", "a//b", "a.", "a\nb", ""],
)  # fmt: skip
def test_it_refuses_branch_names_git_refuses_or_that_look_like_options(branch):
    with pytest.raises(UnsafeArgument, match="the branch must be a valid Git branch name"):
        git_branch_name(branch)
    # What git itself says of refs/heads/<branch>; stricter here: no leading '-' and no bare '@' (HEAD).
    if branch and "\n" not in branch and not branch.startswith("-") and branch != "@":
        check = subprocess.run(["git", "check-ref-format", f"refs/heads/{branch}"], capture_output=True)
        assert check.returncode != 0


def test_commit_ids_are_full_hex_object_ids():
    assert git_object_id("a" * 40) == "a" * 40 and git_object_id("0" * 64) == "0" * 64
    for bad in ("--all", "HEAD", "a" * 39, "A" * 40, "a" * 40 + "..b"):
        with pytest.raises(UnsafeArgument):
            git_object_id(bad)


def test_operands_follow_the_end_of_options_marker_and_never_start_with_a_dash():
    assert argv(["git", "ls-remote"], ["--heads"], ["https://x/a.git"]) == [
        "git", "ls-remote", "--heads", "--", "https://x/a.git"
    ]  # fmt: skip
    assert argv(["git", "log"], [], ["a..b"], end_of_options="--end-of-options")[-2:] == [
        "--end-of-options",
        "a..b",
    ]
    with pytest.raises(UnsafeArgument, match="must not start with '-'"):
        argv(["git", "ls-remote"], [], ["--upload-pack=touch x"])


def test_git_runs_with_our_ssh_command_and_none_from_the_environment():
    inherited = {"PATH": "/usr/bin:/bin", "HOME": "/home/launch", "HTTPS_PROXY": "http://proxy:3128",
                 "GIT_SSH_COMMAND": "touch /tmp/pwned", "GIT_SSH": "/tmp/evil", "GIT_CONFIG_PARAMETERS": "x",
                 "GIT_DIR": "/etc", "GIT_ALLOW_PROTOCOL": "ext"}  # fmt: skip
    environ = git_environment(allow_local=False, inherit=inherited)
    assert environ["GIT_SSH_COMMAND"] == GIT_SSH_COMMAND and environ["GIT_ALLOW_PROTOCOL"] == "https:ssh:git"
    assert environ["HTTPS_PROXY"] == "http://proxy:3128" and environ["HOME"] == "/home/launch"
    assert not {"GIT_SSH", "GIT_CONFIG_PARAMETERS", "GIT_DIR"} & set(environ)
    assert git_environment(allow_local=True, inherit=inherited)["GIT_ALLOW_PROTOCOL"] == "https:ssh:git:file"


def run_git(*operands: str, allow_local: bool) -> subprocess.CompletedProcess[str]:
    command = argv([*git_program(allow_local=allow_local), "ls-remote"], ["--heads"], operands)
    environ = git_environment(allow_local=allow_local)
    return subprocess.run(command, env=environ, capture_output=True, text=True, timeout=30)


def test_git_itself_refuses_the_file_and_ext_transports_unless_allowed(tmp_path):
    repo = GitRepository(tmp_path)
    repo.commit("initial")
    refused = run_git(str(repo.bare), allow_local=False)
    assert refused.returncode != 0 and "transport 'file' not allowed" in refused.stderr
    assert run_git(str(repo.bare), allow_local=True).returncode == 0
    marker = tmp_path / "ext-ran"
    ext = run_git(f"ext::touch {marker}", allow_local=True)
    assert ext.returncode != 0 and "transport 'ext' not allowed" in ext.stderr and not marker.exists()
