"""Ctrl-C on a one-box install (`make run`): every process stops gracefully and the embedded PostgreSQL with it.

A real install of its own: a fresh embedded database under a temporary FLOMATION_VAR_DIR (so this test's
process holds no handle on it), migrated, then `manage.py serve --role all` with the built-in runner.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time

import psutil
import pytest

from tests.support.servers import manage, serve


def running(pid: int) -> bool:
    """True if the process exists and has not exited (an exited one may wait as a zombie to be reaped)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


@pytest.fixture
def install(tmp_path):
    var = tmp_path / "var"
    env = {"FLOMATION_VAR_DIR": str(var), "DATABASE_URL": "", "EMBEDDED_DATABASE_NAME": "flomation"}
    migrated = manage("migrate", "--no-input", env=env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    return var, env


def test_ctrl_c_stops_every_process_gracefully_and_the_last_one_stops_postgresql(install, tmp_path):
    var, env = install
    postgres = var / "postgres"
    with serve("all", tmp_path=tmp_path, env={**env, "LOG_LEVEL": "INFO"}, workers=2, wait_path="") as server:
        # Once the web workers answer, the built-in runner registers: then a stop has a goodbye to say.
        wait_for(
            lambda: "registered as runner" in server.log(), 180, f"the runner did not start:\n{server.log()}"
        )
        master = int(re.search(r"Listening at: \S+ \((\d+)\)", server.log()).group(1))
        workers = [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", server.log())]
        assert json.loads((postgres / ".handle_pids.json").read_text())  # serve and its workers use it

        mark = len(server.log())
        started = time.monotonic()
        os.killpg(server.process.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        server.process.wait(30)
        elapsed = time.monotonic() - started
        log = server.log()

    assert elapsed < 5, f"took {elapsed:.1f} s to stop:\n{log}"
    assert server.process.returncode == 0, log
    assert not [pid for pid in [master, *workers] if running(pid)], log
    for sign_of_trouble in ("SIGKILL", "could not say goodbye", "did not stop in time", "Traceback"):
        assert sign_of_trouble not in log[mark:], log
    assert json.loads((postgres / ".handle_pids.json").read_text()) == []
    assert not (postgres / "postmaster.pid").exists(), "PostgreSQL is still running"
