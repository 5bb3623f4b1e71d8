"""Parent side of the Python sandbox: one worker process per run, started on first use, reused by
every script/python node of that run, killed when the run ends (or a node times out).

A worker is never shared between runs. To keep its start-up off the critical path in a long-lived
process (the runner's warm pool), the process keeps one *unused* worker booting in the background
once it has run a Python node (``ExecutorSettings.python_prestart``); the next run takes it.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time

from flomation.executor.engine.errors import Cancelled, NodeError, NodeTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.executor.settings import ExecutorSettings

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyworker.py")
STARTUP_TIMEOUT = 15.0


_SPARES: dict[tuple[str, int, int], tuple[Any, str]] = {}
_SPARES_LOCK = None


def _spawn(settings: ExecutorSettings) -> tuple[Any, str]:
    import subprocess
    import tempfile

    workdir = tempfile.mkdtemp(prefix="flomation-py-")
    os.chmod(workdir, 0o755)
    executable = settings.python_executable or sys.executable
    memory, cpu = str(int(settings.script_memory_mb)), str(int(settings.python_cpu_seconds))
    process = subprocess.Popen(
        [executable, "-I", "-S", "-B", WORKER, memory, cpu],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
        env={"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
        close_fds=True,
    )
    return process, workdir


def _key(settings: ExecutorSettings) -> tuple[str, int, int]:
    executable = settings.python_executable or sys.executable
    return (executable, int(settings.script_memory_mb), int(settings.python_cpu_seconds))


def _take(settings: ExecutorSettings) -> tuple[Any, str]:
    """A fresh worker: the booted spare when there is one, else a new one; then refill the spare."""
    global _SPARES_LOCK
    import threading

    if _SPARES_LOCK is None:
        _SPARES_LOCK = threading.Lock()
        import atexit

        atexit.register(_discard_spares)
    key = _key(settings)
    with _SPARES_LOCK:
        spare = _SPARES.pop(key, None)
        if spare is not None and spare[0].poll() is not None:
            _discard(spare)
            spare = None
        if settings.python_prestart:
            _SPARES[key] = _spawn(settings)
    return spare if spare is not None else _spawn(settings)


def _discard(worker: tuple[Any, str]) -> None:
    import shutil

    process, workdir = worker
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()
    shutil.rmtree(workdir, ignore_errors=True)


def _discard_spares() -> None:
    while _SPARES:
        _discard(_SPARES.popitem()[1])


class PythonSandbox:
    def __init__(self, settings: ExecutorSettings) -> None:
        self._settings = settings
        self._process: Any = None
        self._workdir: str | None = None
        self.status: dict[str, Any] = {}

    def _start(self, ctx: NodeContext) -> None:
        self._process, self._workdir = _take(self._settings)
        ready = self._receive(ctx, time.monotonic() + STARTUP_TIMEOUT, startup=True)
        self.status = ready
        if not ready.get("seccomp"):
            ctx.log("warning", "the Python sandbox runs without its seccomp filter (resource limits only)")

    def run(self, ctx: NodeContext, code: str, inputs: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self._process is None or self._process.poll() is not None:
            self._kill()
            self._start(ctx)
        data = json.dumps({"code": code, "inputs": inputs}, default=str, ensure_ascii=False).encode("utf-8")
        try:
            os.write(self._process.stdin.fileno(), struct.pack(">I", len(data)) + data)
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
        buffer = b""
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
            chunk = os.read(fd, max(65536, needed - len(buffer)))
            if not chunk:
                code = self._process.wait()
                self._kill()
                reason = "it went over its CPU time limit" if code in (-24, 152) else f"exit status {code}"
                raise NodeError(f"the Python sandbox stopped unexpectedly ({reason})")
            buffer += chunk
            if size is None and len(buffer) >= 4:
                (size,) = struct.unpack(">I", buffer[:4])
                needed = 4 + size
            if size is not None and len(buffer) >= needed:
                return json.loads(buffer[4:needed])

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and self._workdir is not None:
            _discard((process, self._workdir))
        self._workdir = None

    def close(self) -> None:
        self._kill()
