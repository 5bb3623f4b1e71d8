"""One run's memory across all its script processes: a memory cgroup of its own.

The address-space limit caps each process; a script that starts several processes could still use that many
times it. With ``script_run_memory_mb`` set (FLOMATION_SCRIPT_RUN_MEMORY_MB), each run gets a child of the
executor's own memory cgroup (cgroup v1 ``memory.limit_in_bytes``, or v2 ``memory.max`` where the memory
controller is delegated to it) holding every sandbox of the run: past the cap the kernel's OOM killer ends a
process of that run, and only of that run. Where the executor may not create cgroups (not root, no
delegation), the cap is left out and the reason logged once; the per-process limits still apply.
Standard library only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid

logger = logging.getLogger("flomation.executor.sandbox")
_UNAVAILABLE_LOGGED = False


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def _own_memory_cgroup() -> tuple[str, str] | None:
    """(the directory of this process's memory cgroup, "v1" or "v2"), or None."""
    try:
        lines = _read("/proc/self/cgroup").splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return os.path.join("/sys/fs/cgroup/memory", path.lstrip("/")), "v1"
    for line in lines:
        if line.startswith("0::"):
            base = os.path.join("/sys/fs/cgroup", line[3:].lstrip("/"))
            with contextlib.suppress(OSError):
                if "memory" in _read(os.path.join(base, "cgroup.subtree_control")).split():
                    return base, "v2"
    return None


def _unavailable(reason: str) -> None:
    global _UNAVAILABLE_LOGGED
    if not _UNAVAILABLE_LOGGED:
        _UNAVAILABLE_LOGGED = True
        logger.warning(
            "script nodes: no memory cap per run (FLOMATION_SCRIPT_RUN_MEMORY_MB), %s; "
            "each script process keeps its own memory limit",
            reason,
        )


class RunMemory:
    """A run's memory cgroup: sandboxes join it as they start (`wrap`) or when adopted (`adopt`)."""

    def __init__(self, path: str, version: str, limit_mb: int) -> None:
        self.path = path
        self.version = version
        self.limit_mb = limit_mb

    @classmethod
    def create(cls, limit_mb: int) -> RunMemory | None:
        found = _own_memory_cgroup()
        if found is None:
            _unavailable("this process has no memory cgroup it may divide")
            return None
        base, version = found
        path = os.path.join(base, f"flomation-run-{uuid.uuid4().hex[:12]}")
        limit = str(int(limit_mb) << 20)
        try:
            os.mkdir(path, 0o755)
            if version == "v1":
                _write(os.path.join(path, "memory.limit_in_bytes"), limit)
                with contextlib.suppress(OSError):  # swap accounting may be off
                    _write(os.path.join(path, "memory.memsw.limit_in_bytes"), limit)
            else:
                _write(os.path.join(path, "memory.max"), limit)
                with contextlib.suppress(OSError):
                    _write(os.path.join(path, "memory.swap.max"), "0")
        except OSError as error:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            _unavailable(f"a cgroup could not be made under {base} ({error.strerror or error})")
            return None
        return cls(path, version, int(limit_mb))

    def wrap(self, command: list[str]) -> list[str]:
        """`command` started inside the cgroup: the shell joins it, then becomes the command."""
        return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.path, *command]

    def adopt(self, pid: int) -> None:
        """Moves a process started before the run (a booted spare) and its descendants into the cgroup."""
        for member in [pid, *_descendants(pid)]:
            with contextlib.suppress(OSError):
                _write(os.path.join(self.path, "cgroup.procs"), str(member))

    def exceeded(self) -> bool:
        """Whether the kernel killed a process of the run for going over the cap."""
        name = "memory.oom_control" if self.version == "v1" else "memory.events"
        try:
            fields = dict(line.split() for line in _read(os.path.join(self.path, name)).splitlines())
        except (OSError, ValueError):
            return False
        return int(fields.get("oom_kill", "0")) > 0

    def close(self) -> None:
        """Removes the cgroup once its processes are gone (the run's sandboxes were killed before)."""
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)
        logger.warning("script nodes: the run's memory cgroup %s could not be removed", self.path)


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError):
                    children = [int(c) for c in _read(f"/proc/{current}/task/{task}/children").split()]
                    found += children
                    pending += children
    return found
