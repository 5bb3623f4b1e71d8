"""Real runner processes against a real HTTP API (pytest-django's live server) and real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.05) -> object:
    """Polls `predicate` until it returns something truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(interval)


class RunnerProcess:
    def __init__(self, process: subprocess.Popen[bytes], state_dir: Path, log_path: Path) -> None:
        self.process = process
        self.state_dir = state_dir
        self.log_path = log_path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill_hard(self) -> None:
        """kill -9 of the runner and every executor process it started."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(8)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@pytest.fixture
def live_api(live_server) -> Iterator[str]:
    from flomation.core.protocol.listener import listener_close

    yield live_server.url
    listener_close()  # its connection would keep the test database from being dropped


@pytest.fixture
def start_runner(tmp_path: Path, live_api: str) -> Iterator[Callable[..., RunnerProcess]]:
    started: list[RunnerProcess] = []

    def start(
        code: str, *, name: str = "runner", slots: int = 2, api: str | None = None, **env: str
    ) -> RunnerProcess:
        state_dir = tmp_path / name
        state_dir.mkdir(exist_ok=True)
        environ = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FLOMATION_")},
            "PYTHONPATH": str(ROOT),
            "FLOMATION_API": api or live_api,
            "FLOMATION_REGISTRATION_CODE": code,
            "FLOMATION_RUNNER_NAME": name,
            "FLOMATION_RUNNER_STATE_DIRECTORY": str(state_dir),
            "FLOMATION_RUNNER_MAX_EXECUTORS": str(slots),
            "FLOMATION_RUNNER_CHECKIN_TIMEOUT": "0.5",
            "LOG_LEVEL": "INFO",
            **env,
        }
        log_path = state_dir / "runner.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flomation.runner"],
                cwd=state_dir,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        runner = RunnerProcess(process, state_dir, log_path)
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.stop()
        # Shown by pytest only when the test failed.
        print(f"----- log of runner {runner.state_dir.name} -----\n{runner.log}")
