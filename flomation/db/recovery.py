"""Bringing the embedded server back after it died (kill -9 of the postmaster, OOM killer, a crash).

Every process of the box caches the server it started or joined. When a connection to it fails, the
process calls `embedded_server_recover`: if the server is running, nothing is started (the failure had
another cause, or another process is already starting it); if it is gone, exactly one process starts it
again, under a lock file beside the data folder, while the others wait on that lock and then reconnect.
A server stopped cleanly (postmaster.pid removed, as `pg_ctl restart` does between its stop and its start)
is given a moment to come back by itself before this process starts it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from pathlib import Path

from flomation.db import EmbeddedServer, _pid_alive, _start, _started

logger = logging.getLogger("flomation.db")

# How long a process waits for another to finish starting the server before it gives up (its request
# then answers 503 and the next one tries again).
RECOVER_WAIT_SECONDS = 12.0
# A server that stopped cleanly may be in the middle of a restart by an operator's pg_ctl.
CLEAN_STOP_GRACE_SECONDS = 2.0
# Children of a dead postmaster (backends, checkpointer) notice its death and exit; the shared memory
# they hold keeps a new server from starting until they have.
ORPHAN_EXIT_SECONDS = 3.0

_recover_lock = threading.Lock()


def _running_postmaster(path: Path) -> tuple[int, str, str | None, int | None] | None:
    """(pid, status, socket dir, port) of the live server of `path`, or None when none runs."""
    try:
        lines = (path / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    if not _pid_alive(pid):
        return None
    status = lines[7].strip() if len(lines) > 7 else ""
    socket_dir = lines[4].strip() if len(lines) > 4 and lines[4].strip() else None
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
    return pid, status, socket_dir, port


def embedded_server_running(data_dir: str | Path) -> bool:
    """True if the embedded server of `data_dir` is up and accepting connections."""
    running = _running_postmaster(Path(data_dir).expanduser().resolve())
    return running is not None and running[1] == "ready"


def embedded_server_recover(data_dir: str | Path) -> EmbeddedServer | None:
    """Called after a connection to the embedded server failed. Returns the server to connect to (started
    again if it was gone), or None if it is running but not ready (starting up, shutting down): the
    caller's request answers 503 and a later one connects."""
    key = str(data_dir)
    path = Path(data_dir).expanduser().resolve()
    running = _running_postmaster(path)
    if running is not None:  # up (the failure had another cause), or being started by someone
        return _adopt(key, path, running)
    deadline = time.monotonic() + RECOVER_WAIT_SECONDS
    if not _recover_lock.acquire(timeout=RECOVER_WAIT_SECONDS):
        return None
    try:
        import fasteners

        lock = fasteners.InterProcessLock(str(path) + ".recover.lock")
        if not lock.acquire(timeout=max(0.1, deadline - time.monotonic())):
            return None
        try:
            return _recover(key, path)
        finally:
            lock.release()
    finally:
        _recover_lock.release()


def _recover(key: str, path: Path) -> EmbeddedServer | None:
    running = _running_postmaster(path)
    if running is None and not (path / "postmaster.pid").exists():
        deadline = time.monotonic() + CLEAN_STOP_GRACE_SECONDS
        while running is None and time.monotonic() < deadline:
            time.sleep(0.1)
            running = _running_postmaster(path)
    if running is not None:
        return _adopt(key, path, running)
    logger.warning("embedded database: the server is gone; starting it again")
    started = time.monotonic()
    _end_orphans(path)
    try:
        server = _start(path)
    except Exception:
        # This request answers 503; the next connection tries again.
        logger.exception("embedded database: could not start the server again")
        return None
    _started[key] = server
    logger.warning("embedded database: started again in %.1f s", time.monotonic() - started)
    return server


def _adopt(key: str, path: Path, running: tuple[int, str, str | None, int | None]) -> EmbeddedServer | None:
    _pid, status, socket_dir, port = running
    if status != "ready":
        return None
    server = EmbeddedServer(socket_dir=socket_dir or str(path), port=port or 5432, user="postgres")
    _started[key] = server
    return server


def _end_orphans(path: Path) -> None:
    """Waits for the dead server's children to exit, then kills those still there: a process that runs
    in the data folder while its postmaster is dead is one of them (PostgreSQL itself sends SIGQUIT to
    its children when one of them crashes; they hold nothing a restart needs)."""
    import psutil

    def orphans() -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["name"]):
            if process.info["name"] != "postgres" or process.pid == os.getpid():
                continue
            with contextlib.suppress(psutil.Error):
                if Path(process.cwd()) == path and process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
        return found

    deadline = time.monotonic() + ORPHAN_EXIT_SECONDS
    left = orphans()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = orphans()
    for process in left:
        logger.warning("embedded database: ending process %s left behind by the dead server", process.pid)
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGKILL)
    psutil.wait_procs(left, timeout=2)
