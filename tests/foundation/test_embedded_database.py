"""The embedded PostgreSQL: started by the first process, shared by the others, kept across runs,
stopped by the last process to leave, and recovered after crashes. Each test uses its own data folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.servers import ROOT

SCRIPT = textwrap.dedent(
    """
    import sys, time, psycopg
    from flomation.db import ensure_embedded_server
    server = ensure_embedded_server(sys.argv[1])
    with psycopg.connect(host=server.socket_dir, port=server.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        {body}
    """
)


def run(data_dir: Path, body: str, *, wait: bool = True) -> subprocess.Popen[str] | str:
    code = SCRIPT.format(body=textwrap.indent(textwrap.dedent(body), " " * 4).strip())
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    if not wait:
        return process
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out.strip()


def postmaster_running(data_dir: Path) -> bool:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().splitlines()[0]), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "pg"
    yield path
    if postmaster_running(path):
        os.kill(int((path / "postmaster.pid").read_text().splitlines()[0]), signal.SIGQUIT)


def test_data_survives_a_restart_and_the_last_process_stops_the_server(data_dir):
    run(
        data_dir,
        "conn.execute('CREATE TABLE kept (v text)'); conn.execute(\"INSERT INTO kept VALUES ('hello')\")",
    )
    assert not postmaster_running(data_dir)
    assert run(data_dir, "print(conn.execute('SELECT v FROM kept').fetchone()[0])") == "hello"


def test_a_second_process_joins_the_running_server(data_dir):
    holder = run(
        data_dir,
        "print(conn.execute('SELECT pg_backend_pid()').fetchone()[0], flush=True); time.sleep(30)",
        wait=False,
    )
    holder.stdout.readline()
    first_postmaster = (data_dir / "postmaster.pid").read_text().splitlines()[0]
    run(data_dir, "conn.execute('SELECT 1')")
    assert (data_dir / "postmaster.pid").read_text().splitlines()[0] == first_postmaster
    assert postmaster_running(data_dir), "the joining process must not stop a server another process uses"
    holder.kill()
    holder.wait()


def test_handles_of_killed_processes_are_pruned_so_the_server_still_stops(data_dir):
    victim = run(data_dir, "print('up', flush=True); time.sleep(30)", wait=False)
    victim.stdout.readline()
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.pid in json.loads((data_dir / ".handle_pids.json").read_text())
    run(data_dir, "conn.execute('SELECT 1')")
    assert not postmaster_running(data_dir)


def test_a_crashed_server_is_started_again(data_dir):
    holder = run(data_dir, "print('up', flush=True); time.sleep(30)", wait=False)
    holder.stdout.readline()
    postmaster = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    os.kill(postmaster, signal.SIGKILL)
    holder.kill()
    holder.wait()
    time.sleep(0.5)
    assert run(data_dir, "print(conn.execute('SELECT 41 + 1').fetchone()[0])") == "42"


def test_threads_connecting_at_once_share_one_start(data_dir):
    body = """
    import threading
    from flomation.db import ensure_embedded_server as start
    found, errors = [], []
    def connect():
        try:
            found.append(start(sys.argv[1]))
        except Exception as exc:
            errors.append(repr(exc))
    threads = [threading.Thread(target=connect) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(len(found), len(set(found)), errors)
    """
    assert run(data_dir, body) == "8 1 []"


def test_threads_creating_the_application_database_at_once_all_succeed(data_dir):
    body = """
    import threading
    from flomation.db import ensure_database, ensure_embedded_server
    server = ensure_embedded_server(sys.argv[1])
    errors = []
    def create():
        try:
            ensure_database(server, "app")
        except Exception as exc:
            errors.append(repr(exc))
    threads = [threading.Thread(target=create) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(errors, conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'app'").fetchone()[0])
    """
    assert run(data_dir, body) == "[] 1"
