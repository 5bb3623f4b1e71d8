"""Real processes for tests: `manage.py serve` on a free loopback port, pointed at the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_env() -> dict[str, str]:
    """Environment that points a child process at the database this test uses (the test database)."""
    settings_dict = connection.settings_dict
    if settings_dict["ENGINE"] == "flomation.db":
        return {
            "EMBEDDED_DATABASE_NAME": settings_dict["NAME"],
            "FLOMATION_VAR_DIR": str(Path(settings_dict["EMBEDDED_DATA_DIR"]).parent),
            "DATABASE_URL": "",
        }
    host = settings_dict["HOST"] or "127.0.0.1"
    password = settings_dict["PASSWORD"] or ""
    auth = settings_dict["USER"] + (f":{password}" if password else "")
    return {
        "DATABASE_URL": f"postgres://{auth}@{host}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    }


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> float:
        """Sends `sig` and returns how long the process tree took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return time.monotonic() - started


@contextlib.contextmanager
def serve(
    roles: str,
    *,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    workers: int = 1,
    wait_path: str = "/healthz",
    port: int | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[Server]:
    """Runs `manage.py serve --role <roles> [args]` on `port` (default: a free one) until the block ends
    (SIGTERM, then kill). Pass the same `port` again to restart a server where its clients expect it."""
    port = port or free_port()
    log_path = tmp_path / f"serve-{roles.replace(',', '-')}-{port}.log"
    child_env = {**os.environ, **database_env(), "FLOMATION_BIND": f"127.0.0.1:{port}", **(env or {})}
    child_env["FLOMATION_PUBLIC_URL"] = child_env.get("FLOMATION_PUBLIC_URL") or f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "serve", "--role", roles, "--workers", str(workers), *args],
            cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        if wait_path:
            _wait_until_up(server, wait_path)
        yield server
    finally:
        server.stop()


def _wait_until_up(server: Server, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"serve exited with {server.process.returncode}:\n{server.log()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(server.url + path, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"serve did not answer {path} within {timeout} s:\n{server.log()}")


def manage(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs a manage.py command in a child process and returns its result (never raises on failure)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
