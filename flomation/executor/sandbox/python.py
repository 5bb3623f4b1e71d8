"""Parent side of the Python sandbox: one worker per run, started on first use inside the run's kernel
sandbox (isolation.py), reused by every script/python node of that run, killed when the run ends (or a node
times out; the next Python node then starts a new worker on the same ``/work``).

A worker is never shared between runs. To keep its start-up off the critical path in a long-lived process
(the runner's warm pool), the process keeps one *unused* worker booted in the background, with a workspace
and uid of its own, once it has run a Python node (``ExecutorSettings.python_prestart``); the next run takes
it and its workspace becomes that run's ``/work``.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time

from flomation.executor.engine.errors import Cancelled, NodeError, NodeTimeout
from flomation.executor.sandbox import isolation

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.executor.settings import ExecutorSettings

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyworker.py")
WORKER_MOUNT = "/opt/flomation/pyworker.py"
STARTUP_TIMEOUT = 15.0

Spare = tuple["subprocess.Popen[bytes]", "isolation.Workspace"]
_SPARES: dict[tuple[Any, ...], Spare] = {}
_SPARES_LOCK = threading.Lock()
_ATEXIT = False


def worker_command(settings: ExecutorSettings, workspace: isolation.Workspace) -> list[str]:
    executable, _ = isolation.interpreter(settings)
    namespaces = settings.script_isolation != isolation.PROCESS
    packages = isolation.packages_dir(settings)
    config = {
        "memory_mb": int(settings.script_memory_mb),
        "cpu_seconds": int(settings.python_cpu_seconds),
        "max_processes": int(settings.script_max_processes),
        "max_file_mb": int(settings.script_max_file_mb),
        "max_output_mb": int(settings.script_max_output_mb),
        "work": isolation.work_path(settings, workspace),
        "packages": (isolation.PACKAGES_MOUNT if namespaces else packages) if packages else None,
        # Process mode as root: the worker switches to the run's uid itself once the interpreter is loaded.
        "uid": None if namespaces else workspace.uid,
    }
    return [executable, "-I", "-S", "-B", WORKER_MOUNT if namespaces else WORKER, json.dumps(config)]


def environment() -> dict[str, str]:
    return {"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin", "HOME": "/work", "TMPDIR": "/work"}


def spawn_options() -> dict[str, Any]:
    import subprocess

    # The worker file alone is bound into the sandbox (read-only), never the platform's tree.
    return {
        "environ": environment(),
        "stdin": subprocess.PIPE,
        "extra_mounts": ["--ro-bind", WORKER, WORKER_MOUNT],
        "drops_itself": True,
    }


def _spawn(settings: ExecutorSettings, workspace: isolation.Workspace) -> subprocess.Popen[bytes]:
    return isolation.spawn(settings, workspace, worker_command(settings, workspace), **spawn_options())


def _key(settings: ExecutorSettings) -> tuple[Any, ...]:
    return tuple(
        getattr(settings, name)
        for name in (
            "python_executable",
            "script_memory_mb",
            "python_cpu_seconds",
            "script_isolation",
            "script_network",
            "script_run_memory_mb",
            "script_bwrap",
            "script_uid_base",
            "script_uid_count",
            "script_workspace_root",
            "script_packages_dir",
            "script_max_processes",
            "script_max_file_mb",
            "script_max_output_mb",
        )
    )


def boot_worker(settings: ExecutorSettings) -> Spare:
    """A new worker in a new workspace, booting (its first message says it is ready)."""
    workspace = isolation.Workspace(settings)
    try:
        return _spawn(settings, workspace), workspace
    except BaseException:
        workspace.close()
        raise


def _discard(spare: Spare) -> None:
    process, workspace = spare
    isolation.kill(process)
    workspace.close()


def _discard_spares() -> None:
    with _SPARES_LOCK:
        spares = list(_SPARES.values())
        _SPARES.clear()
    for spare in spares:
        _discard(spare)


def _refill(settings: ExecutorSettings, key: tuple[Any, ...]) -> None:
    """Boots the spare for ``key`` (in a helper thread: never on a node's critical path)."""
    try:
        spare = boot_worker(settings)
    except (OSError, NodeError):
        return  # the next run reports why a worker cannot start
    with _SPARES_LOCK:
        extra = _SPARES.get(key)
        _SPARES[key] = spare
    if extra is not None:
        _discard(extra)


def _refill_soon(settings: ExecutorSettings, key: tuple[Any, ...]) -> None:
    global _ATEXIT
    if not _ATEXIT:
        import atexit

        atexit.register(_discard_spares)
        _ATEXIT = True
    threading.Thread(target=_refill, args=(settings, key), name="flomation-python-spare", daemon=True).start()


def _take_spare(settings: ExecutorSettings) -> Spare | None:
    """The booted spare for these settings (if alive), leaving a new one booting in its place."""
    key = _key(settings)
    with _SPARES_LOCK:
        spare = _SPARES.pop(key, None)
    if settings.python_prestart:
        _refill_soon(settings, key)
    if spare is not None and spare[0].poll() is not None:
        _discard(spare)
        spare = None
    return spare


def prestart(settings: ExecutorSettings) -> bool:
    """Boots a spare worker now, so that even a process's first run finds one ready (the runner's warm
    pool calls it once at start). False when scripts cannot run here (the runs will say why)."""
    try:
        isolation.require(settings)
    except NodeError:
        return False
    key = _key(settings)
    with _SPARES_LOCK:
        ready = key in _SPARES
    if not ready:
        _refill_soon(settings, key)
    return True


def discard_spares() -> None:
    """Kills the booted spare workers (tests and shutdown)."""
    _discard_spares()


class PythonSandbox:
    def __init__(self, ctx: NodeContext) -> None:
        self._settings = ctx.settings
        self._run = isolation.RunIsolation.of(ctx)
        self._process: Any = None
        self._requests = -1
        self.status: dict[str, Any] = {}

    def _start(self, ctx: NodeContext) -> None:
        isolation.require(self._settings, ctx)
        process = None
        if self._run.workspace is None:
            spare = _take_spare(self._settings)
            if spare is not None:
                if self._run.adopt(spare[1], spare[0]):
                    process = spare[0]
                else:
                    _discard(spare)
        if process is None:
            workspace = self._run.ensure_workspace()
            process = self._run.spawn(worker_command(self._settings, workspace), **spawn_options())
        self._process = process
        self.status = self._receive(ctx, time.monotonic() + STARTUP_TIMEOUT, startup=True)

    def run(self, ctx: NodeContext, code: str, inputs: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self._process is None or self._process.poll() is not None:
            self._kill()
            self._start(ctx)
        data = json.dumps({"code": code, "inputs": inputs}, default=str, ensure_ascii=False).encode("utf-8")
        try:
            self._process.stdin.write(struct.pack(">I", len(data)) + data)
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            self._kill()
            raise NodeError("the Python sandbox stopped unexpectedly") from None
        deadline = time.monotonic() + timeout
        return self._receive(ctx, deadline, timeout=timeout)

    def _receive(
        self, ctx: NodeContext, deadline: float, *, timeout: float = 0, startup: bool = False
    ) -> dict[str, Any]:
        import select

        fd = self._process.stdout.fileno()
        limit_bytes = int(self._settings.script_max_output_mb) << 20
        chunks: list[bytes] = []
        received = 0
        needed = 4
        size = None
        while True:
            now = time.monotonic()
            if ctx.cancelled():
                self._kill()
                raise Cancelled()
            limit = deadline if ctx.deadline is None else min(deadline, ctx.deadline)
            if now >= limit:
                self._kill()
                if startup:
                    raise NodeError("the Python sandbox did not start in time")
                if ctx.deadline is not None and now >= ctx.deadline:
                    raise NodeTimeout("the node ran out of time")
                raise NodeTimeout(f"the Python script exceeded its timeout of {timeout:g} seconds")
            readable, _, _ = select.select([fd], [], [], min(0.05, limit - now))
            if not readable:
                continue
            chunk = os.read(fd, max(1 << 16, min(needed - received, 1 << 24)))
            if not chunk:
                code = self._process.wait()
                self._kill()
                reason = "it went over its CPU time limit" if code in (-24, 152) else f"exit status {code}"
                if self._run.memory_exceeded():
                    reason = self._run_memory_reason()
                if startup:
                    raise NodeError(f"the Python sandbox did not start ({reason})")
                raise NodeError(f"the Python sandbox stopped unexpectedly ({reason})")
            chunks.append(chunk)
            received += len(chunk)
            if size is None and received >= 4:
                buffer = b"".join(chunks)
                chunks = [buffer]
                (size,) = struct.unpack(">I", buffer[:4])
                if size > limit_bytes + 65536:
                    self._kill()
                    raise NodeError("the Python sandbox sent a reply larger than its output limit")
                needed = 4 + size
            if size is not None and received >= needed:
                buffer = b"".join(chunks)
                try:
                    reply = json.loads(buffer[4:needed])
                except ValueError:
                    self._kill()
                    raise NodeError("the Python sandbox sent a malformed reply") from None
                if not isinstance(reply, dict):
                    self._kill()
                    raise NodeError("the Python sandbox sent a malformed reply")
                return reply

    def _run_memory_reason(self) -> str:
        limit = int(self._settings.script_run_memory_mb)
        return (
            f"the run's scripts went over their memory limit of {limit} MB (FLOMATION_SCRIPT_RUN_MEMORY_MB)"
        )

    def _kill(self, grace: float = 0.0) -> None:
        process, self._process = self._process, None
        if process is not None:
            isolation.kill(process, grace)

    def close(self) -> None:
        """The run is over: the idle worker is asked to exit (killed if it does not within a second)."""
        self._kill(grace=1.0)
