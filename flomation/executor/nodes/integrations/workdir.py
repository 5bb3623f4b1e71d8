"""Paths in the run's workspace (`/work`, shared with script nodes) for nodes that read or write files there.

A node's `/work/x` or relative `x` names `x` inside the workspace; `..`, other absolute paths and NUL are
refused. Files are opened one directory at a time relative to the workspace with O_NOFOLLOW, so a symlink
(which a script could plant, even while the node runs) can never take a read or write outside it. When the
executor runs as root, what it creates is handed to the run's uid so scripts can change it.
"""

from __future__ import annotations

import contextlib
import os

from flomation.executor.engine.errors import NodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from flomation.executor.engine.context import NodeContext
    from flomation.executor.sandbox.workspace import Workspace

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def workspace(ctx: NodeContext) -> Workspace:
    """The run's workspace, created on first use (the same one script nodes see as /work)."""
    from flomation.executor.sandbox import isolation

    run = ctx.resource("isolation", lambda: isolation.RunIsolation(ctx.settings))
    return run.ensure_workspace()


def parts_of(value: object, *, name: str) -> list[str]:
    """The path components of a workspace path (`/work/a/b`, `a/b`); `[]` is the workspace itself."""
    text = str(value or "").strip()
    if "\x00" in text:
        raise NodeError(f"input '{name}' must not contain a NUL character")
    if text in ("/work", "/work/"):
        return []
    if text.startswith("/work/"):
        text = text[len("/work/") :]
    elif text.startswith("/"):
        raise NodeError(
            f"input '{name}' must be a path in the run's workspace (/work/... or relative), not {text[:80]!r}"
        )
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise NodeError(f"input '{name}' must not contain '..'")
    return parts


def display(parts: list[str]) -> str:
    return "/work/" + "/".join(parts) if parts else "/work"


def chown_to_run(ws: Workspace, fd: int) -> None:
    if ws.uid is not None:
        os.fchown(fd, ws.uid, ws.uid)


@contextlib.contextmanager
def directory(ws: Workspace, parts: list[str], *, name: str, create: bool = False) -> Iterator[int]:
    """A file descriptor of the workspace directory `parts`, reached without following symlinks."""
    fd = os.open(ws.path, _DIRECTORY)
    try:
        for part in parts:
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                else:
                    created = os.open(part, _DIRECTORY, dir_fd=fd)
                    chown_to_run(ws, created)
                    os.close(created)
            try:
                child = os.open(part, _DIRECTORY, dir_fd=fd)
            except FileNotFoundError:
                raise NodeError(f"input '{name}': the folder {display(parts)} does not exist") from None
            except (NotADirectoryError, OSError):
                raise NodeError(
                    f"input '{name}': {display(parts)} is not a folder in the workspace (a symlink is not followed)"
                ) from None
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def open_file(ws: Workspace, parts: list[str], *, name: str, write: bool) -> Iterator[int]:
    """A file descriptor of a workspace file, for reading or for (re)writing; parents are created to write."""
    if not parts:
        raise NodeError(f"input '{name}' must name a file in the workspace, not /work itself")
    with directory(ws, parts[:-1], name=name, create=write) as parent:
        flags = (
            os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_WRONLY | os.O_CREAT | os.O_TRUNC if write else os.O_RDONLY)
        )
        try:
            fd = os.open(parts[-1], flags, 0o644, dir_fd=parent)
        except FileNotFoundError:
            raise NodeError(f"input '{name}': {display(parts)} does not exist") from None
        except IsADirectoryError:
            raise NodeError(f"input '{name}': {display(parts)} is a folder, not a file") from None
        except OSError:
            raise NodeError(
                f"input '{name}': {display(parts)} cannot be opened (a symlink is not followed)"
            ) from None
    try:
        if write:
            chown_to_run(ws, fd)
        yield fd
    finally:
        os.close(fd)


def host_directory(ws: Workspace, parts: list[str], *, name: str) -> str:
    """The host path of a workspace directory for a program given a path (git): its real path must lie
    inside the workspace. The program itself runs with the run's uid when the executor is root."""
    root = os.path.realpath(ws.path)
    path = os.path.realpath(os.path.join(root, *parts))
    if path != root and not path.startswith(root + os.sep):
        raise NodeError(f"input '{name}': {display(parts)} leads outside the workspace")
    return path
