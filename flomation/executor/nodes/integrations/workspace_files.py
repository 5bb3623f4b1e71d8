"""Opening files inside a run's workspace (``/work``) without ever leaving it.

A path is ``/work/...`` or relative to ``/work``; ``..``, other absolute paths and NUL are refused. Every
directory on the way is opened relative to the one before with ``O_NOFOLLOW``, and so is the file, so a
symbolic link a script planted (anywhere on the path, or swapped in between a check and the open) is
refused rather than followed. The file must be a regular file owned by the run (its uid, or the executor),
and not a hard link to someone else's file: the executor may be root, and a linked system file must be
neither read nor truncated.
"""

from __future__ import annotations

import errno
import os
import stat

from flomation.executor.engine.errors import NodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.sandbox.workspace import Workspace

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_LINKED = (errno.ELOOP, errno.ENOTDIR, errno.EMLINK)


def parts_of(workspace: Workspace, given: str, name: str = "file_path") -> list[str]:
    """The path's components below the workspace, or NodeError saying why it is not allowed."""
    text = (given or "").strip()
    if not text:
        raise NodeError(f"input '{name}' is required")
    if "\x00" in text:
        raise NodeError(f"input '{name}' contains a NUL character")
    root = workspace.path.rstrip("/")
    if text == "/work" or text.startswith("/work/"):
        text = text[len("/work") :]
    elif text == root or text.startswith(root + "/"):  # the real path, as scripts see it in process mode
        text = text[len(root) :]
    elif text.startswith("/"):
        raise NodeError(
            f"input '{name}' ({_shown(given)}) is outside the run's workspace: use /work/... or a relative path"
        )
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise NodeError(f"input '{name}' must not contain '..'")
    if not parts:
        raise NodeError(f"input '{name}' names the workspace itself, not a file")
    return parts


def shown_path(parts: list[str]) -> str:
    return "/work/" + "/".join(parts)


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def open_parent(workspace: Workspace, parts: list[str], *, create: bool) -> int:
    """A descriptor of the file's directory (created when `create`), reached without following links."""
    fd = os.open(workspace.path, _DIR_FLAGS)
    try:
        for index, part in enumerate(parts[:-1]):
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise NodeError(f"{shown_path(parts)} does not exist") from None
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                else:
                    _give(workspace, part, fd)
                child = _open_dir(part, fd, parts[: index + 1])
            except OSError as error:
                raise _link_error(error, parts[: index + 1]) from None
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_dir(part: str, fd: int, prefix: list[str]) -> int:
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=fd)
    except OSError as error:
        raise _link_error(error, prefix) from None


def _link_error(error: OSError, prefix: list[str]) -> NodeError:
    if error.errno in _LINKED:
        return NodeError(
            f"{shown_path(prefix)} is a symbolic link or not a directory: file nodes do not follow links"
        )
    return NodeError(f"{shown_path(prefix)}: {error.strerror}")


def _give(workspace: Workspace, name: str, dir_fd: int) -> None:
    """What the executor creates belongs to the run's uid, so its scripts can change it."""
    if workspace.uid is not None:
        os.chown(name, workspace.uid, workspace.uid, dir_fd=dir_fd, follow_symlinks=False)


def open_file(workspace: Workspace, parts: list[str], *, write: str | None = None) -> int:
    """A descriptor of the file: for reading, or for writing with `write` one of overwrite|append|create.

    Raises NodeError when it is missing (reading), exists (create), is a link, not a regular file, or
    not the run's own."""
    parent = open_parent(workspace, parts, create=write is not None)
    name = parts[-1]
    flags = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    if write is None:
        flags |= os.O_RDONLY
    else:
        flags |= os.O_WRONLY | os.O_CREAT
        flags |= {"append": os.O_APPEND, "create": os.O_EXCL}.get(write, 0)
    try:
        existed = write is None or _exists(name, parent)
        fd = os.open(name, flags, 0o644, dir_fd=parent)
        if write is not None and not existed:
            _give(workspace, name, parent)
    except FileNotFoundError:
        raise NodeError(f"{shown_path(parts)} does not exist") from None
    except FileExistsError:
        raise NodeError(f"{shown_path(parts)} already exists (mode 'create' never replaces a file)") from None
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise NodeError(f"{shown_path(parts)} is not a regular file") from None
        raise _link_error(error, parts) from None
    finally:
        os.close(parent)
    try:
        _check_owned(workspace, fd, parts)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _exists(name: str, parent: int) -> bool:
    try:
        os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _check_owned(workspace: Workspace, fd: int, parts: list[str]) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise NodeError(f"{shown_path(parts)} is not a regular file")
    run_uid = workspace.uid if workspace.uid is not None else os.geteuid()
    if info.st_uid not in (run_uid, os.geteuid()) or (info.st_nlink > 1 and info.st_uid != run_uid):
        raise NodeError(f"{shown_path(parts)} is not the run's own file (a link to another file?)")
