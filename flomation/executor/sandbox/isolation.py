"""Kernel isolation for script nodes: one run's workspace, its own uid, and the bubblewrap command around
every script process of that run.

Each script process starts in its own mount, PID, IPC, UTS, cgroup and network namespace (bubblewrap):

* the file system is a fresh read-only root holding ``/usr`` (and the ``/bin``, ``/lib`` links), the
  interpreter's own directory when it lives elsewhere, the operator's script packages, a new ``/proc`` and a
  minimal ``/dev``; nothing else of the host (no ``/etc/passwd``, no platform files, no other workspace, no
  database socket);
* ``/work`` is the run's workspace, the only writable place, shared by every script node of the run and
  removed when the run ends;
* the network namespace holds only a loopback interface of its own: no connection leaves it;
* the PID namespace shows the script only its own processes, so it cannot name (signal, trace, limit)
  another run's;
* identity: when the executor runs as root, every run gets a uid of its own from a range
  (``script_uid_base`` .. + ``script_uid_count``, never a real user's), the script runs under it with no
  capabilities and ``no_new_privs``; otherwise a user namespace maps the script to the executor's user, with no
  capabilities on the host;
* a seccomp filter (``seccomp.py``) refuses the kernel's riskiest calls, new namespaces among them.

Resource limits (CPU, memory, processes, file size, open files) are set by the first program inside the
sandbox (the Python worker itself, ``prlimit`` for bash), before any script code runs; hard limits cannot be
raised again without a capability the sandbox lacks. The wall clock is enforced from outside: the node's
timeout kills the sandbox, and killing bubblewrap kills every process in the PID namespace.

``script_isolation="process"`` is the operator's explicit opt-out for hosts without namespaces: scripts then run
as plain processes (own uid when root, the same limits), which keeps runs apart only as far as Unix
permissions do. Standard library only; no Django.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import threading

from flomation.executor.engine.errors import NodeError
from flomation.executor.sandbox.bwrap import (  # noqa: F401 - part of this module's interface
    PACKAGES_MOUNT,
    SANDBOX_UID,
    bwrap_command,
    filesystem,
    interpreter,
    packages_dir,
    proxy_environment,
    setpriv,
)
from flomation.executor.sandbox.workspace import Workspace, is_root

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.executor.sandbox.cgroup import RunMemory
    from flomation.executor.sandbox.egress_proxy import EgressProxy
    from flomation.executor.settings import ExecutorSettings
    from flomation.lib.egress import EgressDenied

logger = logging.getLogger("flomation.executor.sandbox")

NAMESPACES = "namespaces"
PROCESS = "process"
MODES = (NAMESPACES, PROCESS)
_PROBE_LOCK = threading.Lock()
_PROBES: dict[tuple[str, ...], str | None] = {}


class IsolationUnavailable(NodeError):
    """Script nodes cannot run: the kernel sandbox is missing and the operator did not opt out."""


def _seccomp_pipe() -> int:
    from flomation.executor.sandbox.seccomp import program

    data = program()
    read, write = os.pipe()
    try:
        if data:
            os.write(write, data)
    finally:
        os.close(write)
    return read


def spawn(
    settings: ExecutorSettings,
    workspace: Workspace,
    command: list[str],
    *,
    environ: dict[str, str],
    stdin: Any = subprocess.DEVNULL,
    stdout: Any = subprocess.PIPE,
    stderr: Any = subprocess.DEVNULL,
    extra_mounts: tuple[str, ...] | list[str] = (),
    drops_itself: bool = False,
    wrap: Callable[[list[str]], list[str]] | None = None,
) -> subprocess.Popen[bytes]:
    """Starts ``command`` inside the run's sandbox (or, in process mode, as a plain process in the
    workspace). ``command`` sees the workspace as ``/work`` (process mode: its real path); ``extra_mounts``
    are more bubblewrap mount arguments (ignored in process mode). In process mode as root, ``command`` runs
    under the run's uid, or, with ``drops_itself``, starts as root and switches to it itself (the Python worker:
    the interpreter may live where only root can reach it, as under /root)."""
    if settings.script_isolation == PROCESS:
        uid = workspace.uid
        if uid is not None and not drops_itself:
            command = [*setpriv(uid), *command]
        return subprocess.Popen(
            wrap(command) if wrap else command,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=workspace.path,
            env={**environ, "HOME": workspace.path, "TMPDIR": workspace.path},
            close_fds=True,
            start_new_session=True,
        )
    seccomp_fd = _seccomp_pipe()
    try:
        return _from_long_lived_thread(
            lambda: subprocess.Popen(
                (wrap or _same)(
                    bwrap_command(settings, workspace, command, environ, seccomp_fd, extra_mounts)
                ),
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                pass_fds=(seccomp_fd,),
                close_fds=True,
                start_new_session=True,
            )
        )
    finally:
        os.close(seccomp_fd)


def _same(command: list[str]) -> list[str]:
    return command


_PARENT_QUEUE: Any = None
_PARENT_LOCK = threading.Lock()


def _from_long_lived_thread(start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """Runs ``start`` in a thread that lives as long as the process. bubblewrap's --die-with-parent is the
    kernel's parent-death signal, which fires when the *thread* that started it ends: a sandbox started by a
    helper thread (a node with its own timeout, the spare's booting thread) would die with that thread."""
    global _PARENT_QUEUE
    if threading.current_thread() is threading.main_thread():
        return start()
    import queue

    with _PARENT_LOCK:
        if _PARENT_QUEUE is None:
            _PARENT_QUEUE = queue.SimpleQueue()
            threading.Thread(
                target=_parent_loop, args=(_PARENT_QUEUE,), name="flomation-sandboxes", daemon=True
            ).start()
    box: dict[str, Any] = {}
    done = threading.Event()
    _PARENT_QUEUE.put((start, box, done))
    done.wait()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _parent_loop(requests: Any) -> None:
    while True:
        start, box, done = requests.get()
        try:
            box["value"] = start()
        except BaseException as error:  # handed back to the caller
            box["error"] = error
        finally:
            done.set()


def work_path(settings: ExecutorSettings, workspace: Workspace) -> str:
    """Where a script sees its workspace."""
    return workspace.path if settings.script_isolation == PROCESS else "/work"


# --- availability -------------------------------------------------------------------------------------


def _probe(settings: ExecutorSettings) -> str | None:
    """Runs /bin/true in a sandbox of the configured shape; None when it works, else the reason."""
    if shutil.which(settings.script_bwrap) is None:
        return f"bubblewrap ({settings.script_bwrap}) is not installed"
    workspace = Workspace(settings)
    try:
        process = spawn(settings, workspace, ["/bin/true"], environ={}, stderr=subprocess.PIPE)
        try:
            _, error = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return "a test sandbox did not start within 20 seconds"
        if process.returncode != 0:
            detail = error.decode(errors="replace").strip()[-300:]
            return f"a test sandbox failed ({detail or f'exit status {process.returncode}'})"
        return None
    except OSError as error:
        return f"a test sandbox could not start ({error})"
    finally:
        workspace.close()


def require(settings: ExecutorSettings, ctx: NodeContext | None = None) -> None:
    """Raises IsolationUnavailable with what to do when scripts cannot run under the configured isolation;
    each refusal is logged with the node and its organisation."""
    mode = settings.script_isolation
    if mode not in MODES:
        raise NodeError(f"script_isolation must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == PROCESS:
        return
    key = (settings.script_bwrap, str(is_root()), *filesystem(settings))
    with _PROBE_LOCK:
        if key not in _PROBES:
            _PROBES[key] = _probe(settings)
        reason = _PROBES[key]
    if reason is None:
        return
    if ctx is not None:
        logger.warning(
            "script node %s of organisation %s refused: no kernel sandbox (%s)",
            ctx.node_id,
            ctx.context.get("organisation_id") or "-",
            reason,
        )
    raise IsolationUnavailable(
        "script nodes run only inside a kernel sandbox (bubblewrap with namespaces), which is not "
        f"available here: {reason}. Install it (apt-get install bubblewrap) on a kernel that allows "
        "user namespaces, or set FLOMATION_SCRIPT_ISOLATION=process to run scripts without namespaces "
        "(weaker: a script then sees the host's files and network as its uid does)"
    )


# --- one run's sandboxes ------------------------------------------------------------------------------


class RunIsolation:
    """A run's resource ("isolation"): its workspace and every sandbox process started for it. ``close``
    kills them all, then removes the workspace and gives the uid back."""

    def __init__(
        self,
        settings: ExecutorSettings,
        *,
        on_refused: Callable[[EgressDenied], None] | None = None,
    ) -> None:
        self.settings = settings
        self.workspace: Workspace | None = None
        self._processes: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._on_refused = on_refused
        self._proxy: EgressProxy | None = None
        self.memory: RunMemory | None = None

    @classmethod
    def of(cls, ctx: NodeContext) -> RunIsolation:
        """The run's isolation (created on first use by any node that needs ``/work`` or a sandbox)."""
        return ctx.resource("isolation", lambda: cls(ctx.settings, on_refused=ctx.egress_refused))

    def _start_memory(self) -> None:
        """The run's memory cgroup, when the operator caps a run's scripts together (lock held)."""
        if self.memory is None and int(self.settings.script_run_memory_mb or 0) > 0:
            from flomation.executor.sandbox.cgroup import RunMemory

            self.memory = RunMemory.create(int(self.settings.script_run_memory_mb))

    def memory_exceeded(self) -> bool:
        return self.memory is not None and self.memory.exceeded()

    def _start_proxy(self, workspace: Workspace) -> None:
        """The run's egress proxy, when its sandboxes may use the network (called with the lock held)."""
        if self._proxy is not None or workspace.proxy_socket is None:
            return
        from flomation.executor.sandbox.egress_proxy import EgressProxy
        from flomation.lib.egress import EgressPolicy

        policy = self.settings.egress or EgressPolicy()
        self._proxy = EgressProxy(
            workspace.proxy_socket, policy, on_refused=self._on_refused, owner=workspace.uid
        )

    def ensure_workspace(self) -> Workspace:
        with self._lock:
            if self.workspace is None:
                self.workspace = Workspace(self.settings)
            return self.workspace

    def adopt(self, workspace: Workspace, process: subprocess.Popen[bytes]) -> bool:
        """Takes a pre-booted worker and its workspace as this run's; False when the run already has one."""
        with self._lock:
            if self.workspace is not None:
                return False
            self.workspace = workspace
            self._processes.append(process)
            self._start_proxy(workspace)
            self._start_memory()
            if self.memory is not None:
                self.memory.adopt(process.pid)
            return True

    def spawn(self, command: list[str], **options: Any) -> subprocess.Popen[bytes]:
        workspace = self.ensure_workspace()
        with self._lock:
            self._start_proxy(workspace)
            self._start_memory()
        if self.memory is not None:
            options["wrap"] = self.memory.wrap
        process = spawn(self.settings, workspace, command, **options)
        with self._lock:
            self._processes = [p for p in self._processes if p.poll() is None]
            self._processes.append(process)
        return process

    def close(self) -> None:
        with self._lock:
            processes, self._processes = self._processes, []
            workspace, self.workspace = self.workspace, None
            proxy, self._proxy = self._proxy, None
            memory, self.memory = self.memory, None
        for process in processes:
            kill(process, grace=1.0)  # an idle worker ends by itself when its stdin closes
        if proxy is not None:
            proxy.close()
        if memory is not None:
            memory.close()
        if workspace is not None:
            workspace.close()


def kill(process: subprocess.Popen[bytes], grace: float = 0.0) -> None:
    """Kills a sandbox (bubblewrap's death takes its whole PID namespace with it) and reaps it. With
    ``grace``, closing its stdin first asks it to end by itself (a worker that is done exits at once, and
    its CPU time is then accounted to this process's children like any other)."""
    if grace > 0 and process.stdin is not None and process.poll() is None:
        with contextlib.suppress(OSError):
            process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, 9)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
