"""A run's workspace (``/work``) and, when the executor runs as root, the run's own uid. Standard library only."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

from flomation.executor.engine.errors import NodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.settings import ExecutorSettings


def is_root() -> bool:
    return os.geteuid() == 0


# --- uids --------------------------------------------------------------------------------------------


class UidLease:
    """A uid of the configured range held by this process (an exclusive lock file) until released."""

    def __init__(self, uid: int, handle: int) -> None:
        self.uid = uid
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, -1
        if handle >= 0:
            os.close(handle)


def _lock_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), f"flomation-script-uids-{os.geteuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not os.path.isdir(path) or os.path.islink(path) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise NodeError(f"the script uid lock directory {path} is not private to this user; remove it")
    return path


def lease_uid(settings: ExecutorSettings) -> UidLease:
    """A uid no other run on this host holds (several executor processes share the range through locks)."""
    import fcntl
    import random

    base, count = int(settings.script_uid_base), int(settings.script_uid_count)
    directory = _lock_dir()
    start = random.randrange(count)
    for step in range(count):
        uid = base + (start + step) % count
        handle = os.open(os.path.join(directory, str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            continue
        return UidLease(uid, handle)
    raise NodeError(
        f"all {count} script uids are in use; raise script_uid_count (FLOMATION_SCRIPT_UID_COUNT)"
    )


class Workspace:
    """A run's ``/work``: a private directory owned by the run's uid, removed (with the uid released) on close."""

    def __init__(self, settings: ExecutorSettings) -> None:
        self.lease = lease_uid(settings) if is_root() else None
        root = settings.script_workspace_root or None
        self.path = ""
        self.net_dir: str | None = None
        try:
            self.path = tempfile.mkdtemp(prefix="flomation-work-", dir=root)
            if self.lease is not None:
                os.chown(self.path, self.lease.uid, self.lease.uid)
            # Traversable (not listable) by others: bubblewrap, without its capabilities, enters it.
            os.chmod(self.path, 0o711)
            # Where the run's egress proxy listens when scripts may use the network (bound into its sandboxes).
            if settings.script_network == "egress" and settings.script_isolation == "namespaces":
                self.net_dir = tempfile.mkdtemp(prefix="flomation-net-", dir=root)
                os.chmod(self.net_dir, 0o711)
        except BaseException:
            if self.path:
                shutil.rmtree(self.path, ignore_errors=True)
            if self.lease is not None:
                self.lease.release()
            raise

    @property
    def uid(self) -> int | None:
        return self.lease.uid if self.lease is not None else None

    @property
    def proxy_socket(self) -> str | None:
        return os.path.join(self.net_dir, "proxy.sock") if self.net_dir else None

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self.net_dir:
            shutil.rmtree(self.net_dir, ignore_errors=True)
        if self.lease is not None:
            self.lease.release()
            self.lease = None
