"""Git sync: an organisation's repository (url, branch, sub-path, a `git` connection for its credentials),
fetched under the source's lease and applied like the flows folder, each revision recording its commit.

Everything about the repository is the tenant's and hostile: the URL must parse as an allowed transport
(`safe_args.git_repository_url`: no `ext::`, no option-like values, file:// only where the operator allows
local repositories), its host passes the organisation's egress policy and git is pinned to the checked
address (`gitcli.GitSession`), the branch is a valid branch name and the sub-path a plain relative path.
Files are read from git's objects, never from a checkout, so no path in the repository reaches the disk.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from flomation.core.models import FlowSource
from flomation.core.services.connections import connection_reveal
from flomation.core.services.egress import organisation_egress_policy
from flomation.core.services.flow_sources.apply import SyncOutcome, flow_source_apply
from flomation.core.services.flow_sources.files import FileProblem, flow_file_wanted
from flomation.core.services.flow_sources.lease import flow_source_claim, flow_source_release
from flomation.lib.connections.base import ConnectionFailed
from flomation.lib.egress import EgressDenied
from flomation.lib.gitcli import GitFailed, GitSession
from flomation.lib.safe_args import UnsafeArgument, git_branch_name, git_object_id

logger = logging.getLogger(__name__)
MAX_SUB_PATH = 500
_SUB_PATH_PART = re.compile(r"^[A-Za-z0-9_@+=,][A-Za-z0-9_.@+=, \-]*$")


def git_sub_path(value: object) -> str:
    """Returns the sub-path as `a/b` (or "" for the repository's root) if it is a plain relative path:
    no `..`, no `.` parts, nothing starting with '-' or '.', no absolute path, no control characters."""
    if value in (None, "", "/", "."):
        return ""
    must = "the sub-path must be a folder inside the repository (like flows or deploy/flows)"
    if not isinstance(value, str) or len(value) > MAX_SUB_PATH:
        raise UnsafeArgument(f"{must}; at most {MAX_SUB_PATH} characters")
    if value.startswith("/"):
        raise UnsafeArgument(f"{must}, not an absolute path")
    parts = value.strip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafeArgument(f"{must}; '..', '.' and empty parts are not allowed")
    if any(not _SUB_PATH_PART.match(part) for part in parts):
        raise UnsafeArgument(f"{must}; no part may start with '-' or '.', or hold control characters")
    return "/".join(parts)


@dataclass(frozen=True)
class Snapshot:
    commit_sha: str
    files: dict[str, bytes]
    problems: list[FileProblem]


class GitSyncFailed(Exception):
    """The repository could not be read; the message names what failed and never holds a credential."""


def _session(source: FlowSource) -> GitSession:
    fields = connection_reveal(connection=source.connection) if source.connection_id else {}
    if source.connection_id and source.connection.type != "git":
        raise GitSyncFailed(f"the connection {source.connection.name!r} is not a git connection")
    policy = organisation_egress_policy(organisation_id=source.organisation_id)
    return GitSession(fields, policy, allow_local=settings.GIT_ALLOW_FILE_URLS, timeout=120.0)


def git_snapshot(*, source: FlowSource) -> Snapshot:
    """Fetches the branch and reads the flow files under the sub-path at its head. Raises GitSyncFailed."""
    try:
        branch = git_branch_name(source.branch)
        sub_path = git_sub_path(source.sub_path)
        with _session(source) as session:
            url = session.url_for(source.repository_url) if source.connection_id else source.repository_url
            remote = session.remote(url)
            # Only the branch's head is needed: a shallow fetch into a bare repository of the session's own.
            stage = os.path.join(session.home, "sync.git")
            session.run(["init"], ["--quiet", "--bare"], [stage], cwd=None, network=True, local=True)
            session.run(["fetch"], ["--quiet", "--no-tags", "--depth=1"],
                        [remote.url, f"+refs/heads/{branch}:refs/heads/{branch}"],
                        cwd=None, git_dir=stage, network=True)  # fmt: skip
            run = {"cwd": None, "git_dir": stage, "local": True}
            head = session.run(["rev-parse"], ["--verify", "--quiet"], [f"refs/heads/{branch}^{{commit}}"],
                               end_of_options="--end-of-options", **run).strip()  # fmt: skip
            head = git_object_id(head)
            listing = session.run(["ls-tree"], ["-r", "-z", "-l", "--full-tree"], [head],
                                  end_of_options="--end-of-options", **run)  # fmt: skip
            return _read_files(session, stage, listing, head, sub_path)
    except (UnsafeArgument, EgressDenied, ConnectionFailed) as error:
        raise GitSyncFailed(str(error)) from None
    except GitFailed as error:
        raise GitSyncFailed(str(error)) from None


def _read_files(session: GitSession, stage: str, listing: str, head: str, sub_path: str) -> Snapshot:
    files: dict[str, bytes] = {}
    problems: list[FileProblem] = []
    prefix = f"{sub_path}/" if sub_path else ""
    found_folder = not sub_path
    for entry in filter(None, listing.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, kind, object_id, size = meta.split()
        if not path.startswith(prefix):
            continue
        found_folder = True
        relative = path[len(prefix) :]
        if kind != "blob" or not flow_file_wanted(relative):
            continue
        if mode == "120000":
            problems.append(FileProblem(relative, "is a symbolic link; flow files must be plain files"))
            continue
        if len(files) >= settings.FLOWS_MAX_FILES:
            problems.append(FileProblem(relative, f"more than {settings.FLOWS_MAX_FILES} flow files"))
            break
        if int(size) > settings.FLOWS_MAX_FILE_BYTES:
            problems.append(FileProblem(relative, f"larger than {settings.FLOWS_MAX_FILE_BYTES} bytes"))
            continue
        text = session.run(["cat-file"], ["blob"], [git_object_id(object_id)], cwd=None, git_dir=stage,
                           local=True, end_of_options="--end-of-options")  # fmt: skip
        files[relative] = text.encode("utf-8", "surrogateescape")
    if not found_folder:
        problems.append(FileProblem(sub_path, f"the folder is not in commit {head[:12]}"))
    return Snapshot(head, files, problems)


def git_sync_one() -> SyncOutcome | None:
    """Syncs one due Git source under its lease: fetches, and applies the files when the head moved.
    Returns the outcome, or None when no source was due."""
    claimed = flow_source_claim(kind=FlowSource.Kind.GIT)
    if claimed is None:
        return None
    source, token = claimed
    try:
        return git_source_sync(source=source, lease_token=token)
    finally:
        flow_source_release(source=source, token=token, next_in_seconds=source.interval_seconds)


def git_source_sync(*, source: FlowSource, lease_token: uuid.UUID | None) -> SyncOutcome:
    """Fetches `source` and applies its files if the head moved or the last sync failed."""
    try:
        snapshot = git_snapshot(source=source)
    except GitSyncFailed as error:
        logger.warning("git sync of organisation %s failed: %s", source.organisation_id, error)
        outcome = SyncOutcome(problems=[FileProblem("", f"the repository could not be read: {error}")])
        flow_source_apply(source=source, files={}, lease_token=lease_token, read_problems=outcome.problems)
        return outcome
    # A failed source is applied again even at the same commit: the failure may have been the fetch, and
    # applying is idempotent (unchanged files make nothing new).
    if snapshot.commit_sha == source.commit_sha and source.status == FlowSource.Status.SYNCED:
        FlowSource.objects.filter(id=source.id).update(checked_at=timezone.now())
        return SyncOutcome()
    return flow_source_apply(
        source=source,
        files=snapshot.files,
        commit_sha=snapshot.commit_sha,
        lease_token=lease_token,
        read_problems=snapshot.problems,
    )


def git_source_check(*, repository_url: str, branch: str, sub_path: str) -> tuple[str, str, str]:
    """The checked settings, or ValidationError naming the field that is wrong."""
    from flomation.lib.safe_args import git_repository_url

    checks = (
        (
            "repository_url",
            lambda: git_repository_url(repository_url.strip(), allow_local=settings.GIT_ALLOW_FILE_URLS),
        ),
        ("branch", lambda: git_branch_name(branch.strip())),
        ("sub_path", lambda: git_sub_path(sub_path.strip())),
    )
    try:
        password = urlsplit(repository_url.strip()).password
    except ValueError:  # refused below with the reason
        password = None
    if password is not None:
        raise ValidationError({"repository_url": ["Put the token in a git connection, not in the URL."]})
    values = []
    for field, check in checks:
        try:
            values.append(check())
        except UnsafeArgument as error:
            raise ValidationError({field: [str(error)]}) from None
    return values[0], values[1], values[2]
