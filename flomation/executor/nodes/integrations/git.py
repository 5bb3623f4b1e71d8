"""git/*: clone, checkout, add, commit, push, pull, branch, tag and status on a working copy in the run's
workspace (/work, shared with script nodes), over https with a token or ssh with a key.

Every git command goes through `flomation.lib.gitcli` (checked arguments, the remote's host through the
egress policy and pinned, credentials in git's environment only, hooks and a working copy's own program-
running settings refused). The working copy is touched only with the run's uid when the executor is root;
the network part runs on a private staging repository (see gitcli).
"""

from __future__ import annotations

from flomation.executor.coerce import to_multi
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations.git_common import (
    CREDENTIALS,
    DIRECTORY,
    git_node,
    head,
    ref,
    remote_for,
)
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.lib.gitcli import GitSession


@node(
    "git/clone",
    name="Git Clone",
    category="git",
    description="Clone a repository into the run's workspace.",
    inputs=(
        Input(
            "url",
            "string",
            required=True,
            description="The repository: https://..., ssh://... or user@host:path.",
        ),
        Input(
            "branch", "string", description="The branch to check out (default: the remote's default branch)."
        ),
        Input("depth", "integer", description="Fetch only this many recent commits (a shallow clone)."),
        DIRECTORY,
        *CREDENTIALS,
    ),
    outputs=("directory:string", "commit:string", "branch:string", "url:string"),
)
def git_clone(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    def work(session: GitSession, path: str) -> dict[str, Any]:
        import os

        if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
            raise NodeError(f"input 'directory': {inputs.get('directory')} already exists and is not empty")
        remote = session.remote(session.url_for(inputs["url"]))
        branch = ref(inputs["branch"], "branch") if inputs.get("branch") else ""
        session.clone(remote, path, branch=branch, depth=max(0, int(inputs.get("depth") or 0)))
        return {**head(session, path), "url": session.scrub(remote.url)}

    return git_node(ctx, inputs, work, clone=True)


@node(
    "git/checkout",
    name="Git Checkout",
    category="git",
    description="Switch the working copy to a branch, tag or commit (optionally creating the branch).",
    inputs=(
        Input("branch", "string", required=True, description="The branch, tag or commit to check out."),
        Input("create", "boolean", default=False, description="Create the branch here first."),
        DIRECTORY,
    ),
    outputs=("commit:string", "branch:string"),
)
def git_checkout(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    def work(session: GitSession, path: str) -> dict[str, Any]:
        branch = ref(inputs["branch"], "branch")  # a valid ref name never starts with '-'
        if inputs.get("create"):
            session.run(["checkout"], ["--quiet", "-b", branch], [], cwd=path, end_of_options="")
        else:
            # git checkout reads no --end-of-options (2.39): the checked name (never '-'-led), then `--`.
            session.run(["checkout"], ["--quiet", branch, "--"], [], cwd=path, end_of_options="")
        return head(session, path)

    return git_node(ctx, inputs, work)


@node(
    "git/add",
    name="Git Add",
    category="git",
    description="Stage changes in the working copy.",
    inputs=(
        Input(
            "paths", "string", default=".", description="Paths to stage, separated by commas (default: all)."
        ),
        DIRECTORY,
    ),
    outputs=("staged:array",),
)
def git_add(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    paths = [str(p).strip() for p in to_multi(inputs.get("paths") or ".") if str(p).strip()] or ["."]

    def work(session: GitSession, path: str) -> dict[str, Any]:
        session.run(["add"], ["--all"], paths, cwd=path)
        staged = session.run(["diff"], ["--cached", "--name-only", "-z"], [], cwd=path)
        return {"staged": [name for name in staged.split("\0") if name]}

    return git_node(ctx, inputs, work)


@node(
    "git/commit",
    name="Git Commit",
    category="git",
    description="Commit the staged changes.",
    inputs=(
        Input("message", "text", required=True, description="The commit message."),
        Input("author_name", "string", default="Flomation", description="The author's name."),
        Input(
            "author_email", "string", default="flomation@localhost", description="The author's email address."
        ),
        Input("allow_empty", "boolean", default=False, description="Commit even when nothing is staged."),
        DIRECTORY,
    ),
    outputs=("commit:string", "branch:string", "committed:boolean"),
)
def git_commit(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    identity = (f"user.name={_plain(inputs.get('author_name') or 'Flomation')}",
                f"user.email={_plain(inputs.get('author_email') or 'flomation@localhost')}")  # fmt: skip

    def work(session: GitSession, path: str) -> dict[str, Any]:
        if not inputs.get("allow_empty") and _nothing_staged(session, path):
            return {**head(session, path), "committed": False}
        options = [
            "--quiet",
            "--no-verify",
            "--file=-",
            *(["--allow-empty"] if inputs.get("allow_empty") else []),
        ]
        session.run(["commit"], options, [], cwd=path, stdin=inputs["message"], extra_config=identity)
        return {**head(session, path), "committed": True}

    return git_node(ctx, inputs, work)


def _plain(value: str) -> str:
    if any(ch in value for ch in "\n\r\0<>"):
        raise NodeError("the author's name and email must be one line without '<' or '>'")
    return value


def _nothing_staged(session: GitSession, path: str) -> bool:
    from flomation.lib.gitcli import GitFailed

    try:
        session.run(["diff"], ["--cached", "--quiet"], [], cwd=path)
    except GitFailed:
        return False
    has_head = session.run(
        ["rev-parse"], ["--verify", "--quiet", "HEAD"], [], cwd=path, end_of_options="", check=False
    )
    return bool(has_head.strip())


@node(
    "git/push",
    name="Git Push",
    category="git",
    description="Push a branch to the remote.",
    inputs=(
        Input("remote", "string", default="origin", description="The remote's name."),
        Input("branch", "string", description="The branch to push (default: the current one)."),
        DIRECTORY,
        *CREDENTIALS,
    ),
    outputs=("branch:string", "commit:string", "pushed:boolean"),
    idempotent=False,
)
def git_push(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    def work(session: GitSession, path: str) -> dict[str, Any]:
        current = head(session, path)
        branch = ref(inputs.get("branch") or current["branch"], "branch")
        session.push(remote_for(session, path, inputs.get("remote") or "origin"), path, branch)
        return {"branch": branch, "commit": current["commit"], "pushed": True}

    return git_node(ctx, inputs, work)


@node(
    "git/pull",
    name="Git Pull",
    category="git",
    description="Fetch a branch from the remote and fast-forward (or merge) the current branch to it.",
    inputs=(
        Input("remote", "string", default="origin", description="The remote's name."),
        Input("branch", "string", description="The remote branch (default: the current branch's name)."),
        Input(
            "fast_forward_only", "boolean", default=True, description="Fail instead of making a merge commit."
        ),
        DIRECTORY,
        *CREDENTIALS,
    ),
    outputs=("commit:string", "branch:string", "updated:boolean"),
)
def git_pull(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    def work(session: GitSession, path: str) -> dict[str, Any]:
        before = head(session, path)
        branch = ref(inputs.get("branch") or before["branch"], "branch")
        stage = session.fetch(remote_for(session, path, inputs.get("remote") or "origin"), path, branch)
        mode = "--ff-only" if inputs.get("fast_forward_only", True) else "--no-rebase"
        identity = ("user.name=Flomation", "user.email=flomation@localhost")
        options = ["--quiet", "--no-edit", mode]
        session.run(["pull"], options, [stage, branch], cwd=path, extra_config=identity, local=True)
        after = head(session, path)
        return {**after, "updated": after["commit"] != before["commit"]}

    return git_node(ctx, inputs, work)


@node(
    "git/branch",
    name="Git Branch",
    category="git",
    description="Create, delete or list branches.",
    inputs=(
        Input(
            "action",
            "string",
            default="create",
            options=("create", "delete", "list"),
            description="What to do.",
        ),
        Input("name", "string", description="The branch (for create and delete)."),
        Input(
            "start_point", "string", description="Where a new branch starts (default: the current commit)."
        ),
        DIRECTORY,
    ),
    outputs=("branch:string", "branches:array"),
)
def git_branch(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    def work(session: GitSession, path: str) -> dict[str, Any]:
        action = inputs.get("action") or "create"
        result: dict[str, Any] = {}
        if action != "list":
            name = ref(inputs.get("name"), "name")
            operands = [name]
            if action == "create" and inputs.get("start_point"):
                operands.append(ref(inputs["start_point"], "start_point"))
            options = ["--delete"] if action == "delete" else []
            session.run(["branch"], options, operands, cwd=path, end_of_options="--end-of-options")
            result["branch"] = name
        listing = session.run(
            ["branch"], ["--list", "--format=%(refname:short)"], [], cwd=path, end_of_options=""
        )
        result["branches"] = listing.split()
        return result

    return git_node(ctx, inputs, work)


@node(
    "git/tag",
    name="Git Tag",
    category="git",
    description="Tag a commit (annotated when a message is given).",
    inputs=(
        Input("name", "string", required=True, description="The tag's name."),
        Input("message", "text", description="A message: makes an annotated tag."),
        Input("target", "string", description="The branch or commit to tag (default: the current commit)."),
        DIRECTORY,
    ),
    outputs=("tag:string", "commit:string"),
)
def git_tag(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    def work(session: GitSession, path: str) -> dict[str, Any]:
        name = ref(inputs["name"], "name")
        operands = [name, *([ref(inputs["target"], "target")] if inputs.get("target") else [])]
        options = ["--annotate", "--file=-"] if inputs.get("message") else []
        identity = ("user.name=Flomation", "user.email=flomation@localhost")
        session.run(["tag"], options, operands, cwd=path, end_of_options="--end-of-options",
                    stdin=inputs.get("message"), extra_config=identity)  # fmt: skip
        commit = session.run(["rev-list"], ["-n", "1"], [name], cwd=path, end_of_options="--end-of-options")
        return {"tag": name, "commit": commit.strip()}

    return git_node(ctx, inputs, work)


@node(
    "git/status",
    name="Git Status",
    category="git",
    description="The working copy's branch, commit and changed files.",
    inputs=(DIRECTORY,),
    outputs=(
        "branch:string",
        "commit:string",
        "clean:boolean",
        "changes:array",
        "ahead:integer",
        "behind:integer",
    ),
)
def git_status(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    def work(session: GitSession, path: str) -> dict[str, Any]:
        text = session.run(["status"], ["--porcelain=v1", "--branch", "-z"], [], cwd=path, end_of_options="")
        entries = [entry for entry in text.split("\0") if entry]
        header = entries[0] if entries and entries[0].startswith("## ") else ""
        changes, rest = [], [e for e in entries if not e.startswith("## ")]
        while rest:
            entry = rest.pop(0)
            changes.append({"status": entry[:2].strip(), "path": entry[3:]})
            if entry[:1] in ("R", "C") and rest:
                changes[-1]["from"] = rest.pop(0)  # a rename or copy: its old path follows
        ahead = behind = 0
        if "[" in header:
            for part in header.rsplit("[", 1)[1].rstrip("]").split(","):
                word, _, count = part.strip().partition(" ")
                if count.isdigit():
                    ahead, behind = (int(count), behind) if word == "ahead" else (ahead, int(count))
        return {
            **head(session, path),
            "clean": not changes,
            "changes": changes,
            "ahead": ahead,
            "behind": behind,
        }

    return git_node(ctx, inputs, work)
