"""`trigger/git_poll`: new commits on a branch of a Git repository, read with the `git` CLI.

Inputs: `url` (or `repository`), `branch` (default main), `interval`/`unit`. The first poll remembers the
branch's head and starts nothing; each later poll that sees a new head starts one execution carrying the
new commits (oldest first, at most 100), like a push event.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from flomation.launch.config import first
from flomation.launch.models import Trigger
from flomation.launch.pollers import PollError, PollEvent, PollResult, egress_policy_for
from flomation.lib.egress import git_url_checked

GIT_TIMEOUT = 120
MAX_COMMITS = 100
_FIELD, _RECORD = "\x1f", "\x1e"
_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")
# git must not follow HTTP redirects: only the URL's own host has passed the egress check.
_NO_REDIRECTS = {
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "http.followRedirects",
    "GIT_CONFIG_VALUE_0": "false",
}


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C", **_NO_REDIRECTS}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise PollError("the git command is not installed on this launch host") from None
    except subprocess.TimeoutExpired:
        raise PollError(f"git {args[0]} took longer than {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        detail = _CREDENTIALS.sub(r"\1", done.stderr.strip())[:500]
        raise PollError(f"git {args[0]} failed: {detail}")
    return done.stdout


class GitPoller:
    def poll(
        self, *, trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any], cursor: Any, now: datetime
    ) -> PollResult:
        url = str(first(config, "url", "repository", "repository_url", default="") or secrets.get("url", ""))
        branch = str(first(config, "branch", default="main"))
        if not url:
            raise PollError("set the repository url to poll")
        git_url_checked(url, egress_policy_for(trigger))  # the host checked; local paths refused
        listing = _git("ls-remote", "--heads", url, f"refs/heads/{branch}")
        head = next(
            (line.split()[0] for line in listing.splitlines() if line.endswith(f"refs/heads/{branch}")), None
        )
        if head is None:
            raise PollError(f"branch {branch!r} was not found in the repository")
        before = (cursor or {}).get("head")
        if before is None or before == head:
            return PollResult(cursor={"head": head})
        commits = self._commits(trigger, url, branch, before, head)
        latest = commits[-1] if commits else {"sha": head, "author": "", "message": ""}
        event = {
            "repository": _CREDENTIALS.sub(r"\1", url),
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
            _git("init", "--quiet", "--bare", str(cache))
        _git("fetch", "--quiet", "--no-tags", url, f"+refs/heads/{branch}:refs/poll/{branch}", cwd=cache)
        fmt = _FIELD.join(["%H", "%an", "%ae", "%aI", "%s"]) + _RECORD
        try:
            log = _git(
                "log",
                "--reverse",
                f"--max-count={MAX_COMMITS}",
                f"--format={fmt}",
                f"{before}..{head}",
                cwd=cache,
            )
        except PollError:  # the old head is gone (a force push): report the new head alone
            log = _git("log", "--max-count=1", f"--format={fmt}", head, cwd=cache)
        commits = []
        for record in log.split(_RECORD):
            parts = record.strip("\n").split(_FIELD)
            if len(parts) == 5:
                sha, author, email, date, subject = parts
                commits.append(
                    {"sha": sha, "author": author, "email": email, "date": date, "message": subject}
                )
        return commits
