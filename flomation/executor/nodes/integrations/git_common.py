"""What the git/* nodes share: their credential inputs, the working copy's path, and one wrapper that runs
a node's git commands through `flomation.lib.gitcli` and turns every failure into a NodeError."""

from __future__ import annotations

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations import workdir
from flomation.executor.registry import Input

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.lib.gitcli import GitSession, Remote

FIELDS = ("username", "token", "ssh_private_key", "host_key_fingerprint")
DIRECTORY = Input(
    "directory",
    "string",
    default="repo",
    description="The working copy: /work/... or a path relative to /work.",
)
CREDENTIALS = (
    connection_input("git"),
    Input("username", "string", description="The https user (when no connection is picked)."),
    Input("token", "secret", description="An https access token (when no connection is picked)."),
    Input(
        "ssh_private_key", "secret", description="A private key for ssh URLs (when no connection is picked)."
    ),
    Input(
        "host_key_fingerprint",
        "string",
        description="For ssh: the server's host key fingerprint (SHA256:...).",
    ),
)


def git_node(
    ctx: NodeContext,
    inputs: dict[str, Any],
    work: Callable[[GitSession, str], dict[str, Any]],
    *,
    clone: bool = False,
) -> dict[str, Any]:
    """Runs `work(session, path)` with the working copy's host path; turns every failure into a NodeError."""
    from flomation.lib.connections import ConnectionFailed
    from flomation.lib.egress import EgressDenied
    from flomation.lib.gitcli import GitFailed, GitSession
    from flomation.lib.safe_args import UnsafeArgument

    fields = connection_fields(ctx, inputs, "git", inline=FIELDS, secret=("token", "ssh_private_key"))
    parts = workdir.parts_of(inputs.get("directory") or "repo", name="directory")
    ws = workdir.workspace(ctx)
    if clone:
        if not parts:
            raise NodeError("input 'directory' must name a folder inside /work to clone into")
        with workdir.directory(ws, parts[:-1], name="directory", create=True):
            pass
    path = workdir.host_directory(ws, parts, name="directory")
    session = GitSession(
        fields,
        ctx.egress,
        allow_local=bool(ctx.settings.git_allow_file_urls),
        run_as=ws.uid,
        timeout=ctx.remaining(300.0) or 300.0,
    )
    try:
        if not clone:
            session.check_working_copy(path)
        result = ctx.call_blocking(lambda: work(session, path), on_abort=session.abort)
        result.setdefault("directory", workdir.display(parts))
        return result
    except EgressDenied as refused:
        ctx.egress_refused(refused)
        raise NodeError(str(refused)) from None
    except (UnsafeArgument, GitFailed, ConnectionFailed) as error:
        raise NodeError(session.scrub(str(error))) from None
    finally:
        session.close()


def ref(value: Any, name: str) -> str:
    from flomation.lib.safe_args import UnsafeArgument, git_branch_name

    try:
        return git_branch_name(str(value or "").strip())
    except UnsafeArgument as error:
        raise NodeError(f"input '{name}': {error}") from None


def head(session: GitSession, path: str) -> dict[str, Any]:
    commit = session.run(
        ["rev-parse"], ["--verify", "--quiet", "HEAD"], [], cwd=path, end_of_options="", check=False
    )
    branch = session.run(
        ["symbolic-ref"], ["--quiet", "--short", "HEAD"], [], cwd=path, end_of_options="", check=False
    )
    return {"commit": commit.strip(), "branch": branch.strip()}


def remote_for(session: GitSession, path: str, name: str) -> Remote:
    """The working copy's remote `name`, its URL checked (form and egress) and pinned, credentials ready."""
    return session.remote(session.configured_url(path, ref(name or "origin", "remote")))
