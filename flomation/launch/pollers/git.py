"""`trigger/git_poll`: new commits on a branch of a Git repository, read with the `git` CLI.

Inputs: `url` (or `repository`), `branch` (default main), `interval`/`unit`. The first poll remembers the
branch's head and starts nothing; each later poll that sees a new head starts one execution carrying the
new commits (oldest first, at most 100), like a push event.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from flomation.launch.config import first
from flomation.launch.models import Trigger
from flomation.launch.pollers import PollError, PollEvent, PollInputInvalid, PollResult, egress_policy_for
from flomation.lib.egress import git_url_checked
from flomation.lib.safe_args import (
    UnsafeArgument,
    argv,
    git_branch_name,
    git_environment,
    git_object_id,
    git_program,
    git_repository_url,
    redact_url,
)

GIT_TIMEOUT = 120
MAX_COMMITS = 100
_FIELD, _RECORD = "\x1f", "\x1e"
# git must not follow HTTP redirects: only the URL's own host has passed the egress check.
_NO_REDIRECTS = {
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "http.followRedirects",
    "GIT_CONFIG_VALUE_0": "false",
}


def _allow_local() -> bool:
    """file:// URLs and local paths only where the operator allows them (FLOMATION_GIT_ALLOW_FILE_URLS)."""
    return bool(getattr(settings, "GIT_ALLOW_FILE_URLS", False))


def git_poll_source(config: dict[str, Any], secrets: dict[str, Any]) -> tuple[str, str]:
    """The checked (url, branch) a git_poll trigger reads; raises PollInputInvalid saying what is wrong."""
    names = ("url", "repository", "repository_url")
    url = str(first(config, *names, default="") or secrets.get("url", ""))
    branch = str(first(config, "branch", default="main"))
    url_field = next((name for name in names if config.get(name) not in (None, "")), "url")
    if not url:
        raise PollInputInvalid("set the repository url to poll", field=url_field)
    try:
        git_repository_url(url, allow_local=_allow_local())
    except UnsafeArgument as error:
        raise PollInputInvalid(str(error), field=url_field) from None
    try:
        git_branch_name(branch)
    except UnsafeArgument as error:
        raise PollInputInvalid(str(error), field="branch") from None
    return url, branch


def _git(
    subcommand: str,
    options: Sequence[str] = (),
    operands: Sequence[str] = (),
    *,
    cwd: Path | None = None,
    end_of_options: str = "--",
) -> str:
    """Runs git with our protocols, ssh command and environment; operands come after `end_of_options`."""
    allow_local = _allow_local()
    command = argv(
        [*git_program(allow_local=allow_local), subcommand], options, operands, end_of_options=end_of_options
    )
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env={**git_environment(allow_local=allow_local), **_NO_REDIRECTS},
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise PollError("the git command is not installed on this launch host") from None
    except subprocess.TimeoutExpired:
        raise PollError(f"git {subcommand} took longer than {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        detail = redact_url(done.stderr.strip())[:500]
        raise PollError(f"git {subcommand} failed: {detail}")
    return done.stdout


def _object_id(value: Any) -> str:
    try:
        return git_object_id(value)
    except UnsafeArgument as error:
        raise PollError(str(error)) from None


class GitPoller:
    def poll(
        self, *, trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any], cursor: Any, now: datetime
    ) -> PollResult:
        url, branch = git_poll_source(config, secrets)
        git_url_checked(url, egress_policy_for(trigger))  # the host checked; local paths per the policy
        listing = _git("ls-remote", ["--heads"], [url, f"refs/heads/{branch}"])
        head = next(
            (line.split()[0] for line in listing.splitlines() if line.endswith(f"\trefs/heads/{branch}")),
            None,
        )
        if head is None:
            raise PollError(f"branch {branch!r} was not found in the repository")
        head = _object_id(head)
        before = (cursor or {}).get("head")
        if before is not None:
            before = _object_id(before)
        if before is None or before == head:
            return PollResult(cursor={"head": head})
        commits = self._commits(trigger, url, branch, before, head)
        latest = commits[-1] if commits else {"sha": head, "author": "", "message": ""}
        event = {
            "repository": redact_url(url),
            "branch": branch,
            "before": before,
            "after": head,
            "commit": head,
            "author": latest.get("author", ""),
            "message": latest.get("message", ""),
            "commits": commits,
        }
        return PollResult(cursor={"head": head}, events=[PollEvent(data=event, key=f"{before}..{head}")])

    def _commits(
        self, trigger: Trigger, url: str, branch: str, before: str, head: str
    ) -> list[dict[str, str]]:
        cache = Path(settings.VAR_DIR) / "launch" / "git" / str(trigger.id)
        if not (cache / "HEAD").exists():
            cache.mkdir(parents=True, exist_ok=True)
            _git("init", ["--quiet", "--bare"], [str(cache)])
        refspec = f"+refs/heads/{branch}:refs/poll/{branch}"
        _git("fetch", ["--quiet", "--no-tags", "--no-recurse-submodules"], [url, refspec], cwd=cache)
        fmt = _FIELD.join(["%H", "%an", "%ae", "%aI", "%s"]) + _RECORD
        try:
            log = _git(
                "log",
                ["--reverse", f"--max-count={MAX_COMMITS}", f"--format={fmt}"],
                [f"{before}..{head}"],
                cwd=cache,
                end_of_options="--end-of-options",  # for git log, `--` would start paths
            )
        except PollError:  # the old head is gone (a force push): report the new head alone
            log = _git(
                "log",
                ["--max-count=1", f"--format={fmt}"],
                [head],
                cwd=cache,
                end_of_options="--end-of-options",
            )
        commits = []
        for record in log.split(_RECORD):
            parts = record.strip("\n").split(_FIELD)
            if len(parts) == 5:
                sha, author, email, date, subject = parts
                commits.append(
                    {"sha": sha, "author": author, "email": email, "date": date, "message": subject}
                )
        return commits
