"""Script nodes in their kernel sandbox: attacks that must fail, and everyday scripts that must work.

Every attack runs as a flow through the executor, the way a tenant's script reaches it. "Another run" is a
second flow running at the same time under another organisation's context.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings

ROOT = Path(__file__).resolve().parents[2]
QUIET = ExecutorSettings(log=lambda *a: None)


def py(code: str, **inputs):
    return node("n", "script/python", {"code": code, **inputs})


def run_py(code: str, settings: ExecutorSettings = QUIET, **inputs):
    result, _ = run(chain(py(code, **inputs)), settings=settings)
    return result


def bash(script: str, settings: ExecutorSettings = QUIET, **inputs):
    result, _ = run(chain(node("n", "script/bash", {"script": script, **inputs})), settings=settings)
    return result


def worker_pids() -> list[int]:
    """The host pids of every Python script worker running on this machine."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pyworker.py" in command and not command.startswith(b"bwrap"):
            pids.append(int(entry))
    return pids


def uid_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


# --- what a script cannot see -------------------------------------------------------------------------


def test_a_script_cannot_read_the_hosts_passwd_file():
    assert "root:" in Path("/etc/passwd").read_text()  # the file the attack is after exists on the host
    result = run_py("return open('/etc/passwd').read()")
    assert result.status == "failed"
    assert "FileNotFoundError" in result.error and "root:" not in result.error
    shell = bash("cat /etc/passwd")
    assert shell.status == "failed" and "No such file or directory" in shell.error


def test_a_script_cannot_read_the_platforms_files_or_its_env_file(tmp_path):
    secret_env = tmp_path / ".env"
    secret_env.write_text("SECRET_KEY=do-not-leak-me\n")
    targets = [str(secret_env), str(ROOT / ".env"), str(ROOT / "flomation" / "settings.py"), str(ROOT)]
    code = (
        "found = {}\n"
        "for path in inputs['paths']:\n"
        "    try:\n"
        "        found[path] = open(path).read() if not path.endswith('sandbox') else os.listdir(path)\n"
        "    except OSError as error:\n"
        "        found[path] = type(error).__name__\n"
        "return found\n"
    )
    result = run_py("import os\n" + code, inputs_data={"paths": targets})
    found = outputs_of(result)["result"]
    assert set(found.values()) <= {"FileNotFoundError", "PermissionError", "IsADirectoryError"}
    assert "do-not-leak-me" not in json.dumps(result.to_state())


def test_a_script_cannot_read_another_runs_workspace_while_it_runs():
    victim = chain(
        py("open('/work/secret.txt', 'w').write('org-a-private')\nimport time\ntime.sleep(3)\nreturn 'done'")
    )
    victim_result: dict = {}
    thread = threading.Thread(
        target=lambda: victim_result.update(
            result=run(victim, settings=QUIET, context={"organisation_id": "org-a"})[0]
        )
    )
    thread.start()
    workspaces: list[str] = []

    def victims_workspace() -> bool:
        root = Path(tempfile.gettempdir())
        workspaces[:] = [str(p.parent) for p in root.glob("flomation-work-*/secret.txt")]
        return bool(workspaces)

    deadline = time.monotonic() + 15
    while not victims_workspace() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workspaces, "the victim's workspace never appeared"
    attack = (
        "import os\nseen = {}\n"
        "for path in inputs['paths'] + ['/work/secret.txt', '/tmp']:\n"
        "    try:\n"
        "        seen[path] = os.listdir(path) if not path.endswith('.txt') else open(path).read()\n"
        "    except OSError as error:\n"
        "        seen[path] = type(error).__name__\n"
        "    try:\n"
        "        seen[path + '/secret.txt'] = open(path + '/secret.txt').read()\n"
        "    except OSError as error:\n"
        "        seen[path + '/secret.txt'] = type(error).__name__\n"
        "return seen\n"
    )
    result, _ = run(
        chain(py(attack, inputs_data={"paths": workspaces})),
        settings=QUIET,
        context={"organisation_id": "org-b"},
    )
    thread.join(20)
    assert victim_result["result"].status == "succeeded"
    seen = outputs_of(result)["result"]
    assert seen and all(value in ("FileNotFoundError", "NotADirectoryError") for value in seen.values()), seen
    assert "org-a-private" not in json.dumps(result.to_state())


# --- what a script cannot change -------------------------------------------------------------------------


def test_a_script_cannot_write_outside_work(tmp_path):
    host_dir = tmp_path / "host"
    host_dir.mkdir(mode=0o777)
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
x86 = os.uname().machine == "x86_64"
attempts = {}
def attempt(name, call):
    try:
        value = call()
        attempts[name] = f"ok {value}" if not isinstance(value, int) or value >= 0 else f"errno {ctypes.get_errno()}"
    except OSError as error:
        attempts[name] = type(error).__name__
for path in ["/x", "/usr/x", "/etc/x", "/dev/shm/x", "/opt/flomation/x", inputs["host"] + "/x", "/tmp/x"]:
    attempt("write " + path, lambda: open(path, "w").write("x"))
    attempt("mkdirat " + path, lambda: libc.mkdirat(AT_FDCWD, (path + "d").encode(), 0o777))
attempt("fchmodat2", lambda: libc.syscall(452, AT_FDCWD, b"/usr/bin/env", 0o777, 0))
attempt("fchmodat", lambda: libc.fchmodat(AT_FDCWD, b"/usr/bin/env", 0o777, 0))
attempt("fchownat", lambda: libc.fchownat(AT_FDCWD, b"/usr/bin/env", os.getuid(), os.getgid(), 0))
attempt("setxattr", lambda: libc.setxattr(b"/usr/bin/env", b"user.flomation", b"x", 1, 0))
attempt("utimensat", lambda: libc.utimensat(AT_FDCWD, b"/usr/bin/env", None, 0))
attempt("mount", lambda: libc.mount(b"none", b"/usr", b"tmpfs", 0, None))
attempt("unshare a user namespace", lambda: libc.unshare(0x10000000))
open("/work/fine.txt", "w").write("inside /work is fine")
attempts["inside"] = open("/work/fine.txt").read()
return attempts
"""
    before = os.stat("/usr/bin/env")
    result = run_py(code, inputs_data={"host": str(host_dir)})
    attempts = dict(outputs_of(result)["result"])
    assert attempts.pop("inside") == "inside /work is fine"
    succeeded = {name: value for name, value in attempts.items() if value.startswith("ok")}
    assert succeeded == {}, succeeded
    assert list(host_dir.iterdir()) == []
    after = os.stat("/usr/bin/env")
    assert (after.st_mode, after.st_uid, after.st_mtime_ns) == (
        before.st_mode,
        before.st_uid,
        before.st_mtime_ns,
    )


# --- what a script cannot reach -------------------------------------------------------------------------

_CONNECT = """
import socket
reached = {}
for host, port in inputs["targets"]:
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        reached[f"{host}:{port}"] = "connected"
    except OSError as error:
        reached[f"{host}:{port}"] = type(error).__name__
return reached
"""


def test_a_script_cannot_connect_to_the_database_or_the_api_on_loopback(http_server):
    http_server.routes["/api/v1/health"] = (200, {}, {"ok": True})
    with urllib.request.urlopen(http_server.url + "/api/v1/health", timeout=5) as answer:
        assert answer.status == 200  # the API is up for anyone on the host
    socket.create_connection(("127.0.0.1", 5432), timeout=2).close()  # and so is PostgreSQL
    port = http_server.server_address[1]
    targets = [["127.0.0.1", 5432], ["127.0.0.1", port], ["localhost", port], ["1.1.1.1", 443]]
    result = run_py(_CONNECT, inputs_data={"targets": targets})
    reached = outputs_of(result)["result"]
    assert "connected" not in reached.values(), reached
    requests_before = len(http_server.requests)
    shell = bash(f"exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET /api/v1/health HTTP/1.0\\r\\n\\r\\n' >&3")
    assert shell.status == "failed" and "Connection refused" in shell.error
    assert len(http_server.requests) == requests_before


# --- what a script cannot do to another run ------------------------------------------------------------

_ATTACK = """
import ctypes, os, resource, signal
libc = ctypes.CDLL(None, use_errno=True)
numbers = {"x86_64": {"rt_sigqueueinfo": 129, "prlimit64": 302}, "aarch64": {"rt_sigqueueinfo": 138, "prlimit64": 261}}
calls = numbers[os.uname().machine]
class Limit(ctypes.Structure):
    _fields_ = [("soft", ctypes.c_uint64), ("hard", ctypes.c_uint64)]
outcomes = {}
def attempt(name, call):
    try:
        value = call()
        outcomes[name] = "ok" if value is None or value >= 0 else f"errno {ctypes.get_errno()}"
    except OSError as error:
        outcomes[name] = type(error).__name__
for pid in inputs["pids"]:
    attempt(f"kill {pid}", lambda: os.kill(pid, signal.SIGKILL))
    attempt(f"rt_sigqueueinfo {pid}", lambda: libc.syscall(calls["rt_sigqueueinfo"], pid, 9, ctypes.create_string_buffer(128)))
    attempt(f"prlimit64 {pid}", lambda: libc.syscall(calls["prlimit64"], pid, resource.RLIMIT_CPU, ctypes.byref(Limit(1, 1)), None))
    attempt(f"resource.prlimit {pid}", lambda: resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, 3)))
    attempt(f"ptrace attach {pid}", lambda: libc.ptrace(16, pid, None, None))
    attempt(f"pidfd_open {pid}", lambda: libc.syscall(434, pid, 0))
attempt("kill every process", lambda: os.kill(-1, signal.SIGKILL))
return outcomes
"""

_VICTIM = """
import resource, time
time.sleep(4)
return {"alive": True, "cpu": resource.getrlimit(resource.RLIMIT_CPU), "files": resource.getrlimit(resource.RLIMIT_NOFILE)}
"""


def test_a_script_cannot_kill_limit_or_trace_another_organisations_running_worker():
    started = threading.Event()
    victim_result: dict = {}

    def victim() -> None:
        def on_event(event: dict) -> None:
            if event["id"] == "n" and event["status"] == "running":
                started.set()

        from flomation.executor import run_flow

        victim_result["result"] = run_flow(
            chain(py(_VICTIM)), settings=QUIET, on_event=on_event, context={"organisation_id": "org-a"}
        )

    thread = threading.Thread(target=victim)
    thread.start()
    assert started.wait(15)
    time.sleep(0.5)
    pids = worker_pids()
    assert pids, "the victim's worker is not running"
    result, _ = run(
        chain(py(_ATTACK, inputs_data={"pids": pids})), settings=QUIET, context={"organisation_id": "org-b"}
    )
    thread.join(30)
    outcomes = outputs_of(result)["result"]
    assert len(outcomes) == 6 * len(pids) + 1
    assert "ok" not in outcomes.values(), outcomes
    victim_outputs = outputs_of(victim_result["result"])["result"]
    assert victim_result["result"].status == "succeeded"
    assert victim_outputs["alive"] is True
    assert victim_outputs["cpu"] == [QUIET.python_cpu_seconds, QUIET.python_cpu_seconds + 1]
    assert victim_outputs["files"] == [256, 256]


@pytest.mark.skipif(os.geteuid() != 0, reason="own uids per run are given only when the executor is root")
def test_each_run_gets_its_own_unprivileged_uid_and_no_capabilities():
    code = (
        "import os\nstatus = open('/proc/self/status').read().splitlines()\n"
        "return {'uid': os.getuid(), 'caps': [l.split()[1] for l in status if l.startswith('Cap')], "
        "'nnp': [l.split()[1] for l in status if l.startswith('NoNewPrivs')][0]}"
    )
    first, second = (outputs_of(run_py(code))["result"] for _ in range(2))
    for seen in (first, second):
        base = QUIET.script_uid_base
        assert base <= seen["uid"] < base + QUIET.script_uid_count
        assert set(seen["caps"]) == {"0000000000000000"} and seen["nnp"] == "1"
    assert first["uid"] != second["uid"]


# --- resource limits ----------------------------------------------------------------------------------


def test_a_fork_bomb_is_stopped_by_the_process_limit_and_leaves_nothing_behind():
    settings = QUIET.replace(script_max_processes=16)
    code = (
        "import os, time\nchildren = 0\n"
        "try:\n"
        "    for _ in range(10000):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "except OSError as error:\n"
        "    return {'children': children, 'stopped_by': type(error).__name__, 'uid': os.getuid()}\n"
        "return {'children': children}"
    )
    result = run_py(code, settings=settings)
    outcome = outputs_of(result)["result"]
    assert outcome["stopped_by"] == "BlockingIOError" and outcome["children"] < 16
    shell = bash(":(){ :|:& };:; sleep 30", settings=settings, timeout_seconds=2)
    assert shell.status == "failed"
    if os.geteuid() == 0:  # the run's uid is its own: nothing of it may outlive the run
        time.sleep(0.2)
        left = [
            pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if uid_of(pid) == outcome["uid"]
        ]
        assert left == []


def test_allocating_4_gb_fails_with_a_memory_error():
    result = run_py("block = bytearray(4 << 30)\nreturn len(block)")
    assert result.status == "failed" and "memory limit" in result.error
    shell = bash("python3 -c 'bytearray(4 << 30)' || exit 9")
    assert shell.status == "failed" and "MemoryError" in shell.error


def test_a_script_spinning_forever_is_stopped_at_its_timeout():
    started = time.monotonic()
    result = run_py("while True:\n    pass", timeout_seconds=1)
    assert result.status == "failed" and "exceeded its timeout of 1 seconds" in result.error
    shell = bash("while :; do :; done", timeout_seconds=1)
    assert shell.status == "failed" and "exceeded its timeout of 1 seconds" in shell.error
    assert time.monotonic() - started < 8


def descendants(root: int) -> set[int]:
    """Every live process under `root` (by parent pid)."""
    parents: dict[int, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            parents[int(pid)] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(("action", "field", "code"), [
    ("script/bash", "script", "while :; do :; done"),
    ("script/python", "code", "while True:\n    pass"),
])  # fmt: skip
def test_a_killed_executor_leaves_no_script_running(tmp_path, action, field, code):
    """A runner killed with SIGKILL (the OOM killer, kill -9) must not leave its scripts spinning on the host."""
    import signal
    import subprocess
    import sys

    flow_file = tmp_path / "flow.json"
    flow_file.write_text(json.dumps(chain(node("n", action, {field: code, "timeout": 120}))))
    executor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flomation.executor",
            "run",
            "--flow",
            str(flow_file),
            "--state",
            str(tmp_path / "s"),
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        uid_of(pid) not in (None, os.geteuid()) for pid in descendants(executor.pid)
    ):
        time.sleep(0.1)
    sandboxed = descendants(executor.pid)
    assert sandboxed, "the script never started"
    time.sleep(0.5)
    executor.send_signal(signal.SIGKILL)
    executor.wait(10)
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in sandboxed) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in sandboxed if alive(pid)] == []


def test_a_script_over_its_cpu_budget_is_stopped():
    result = run_py("while True:\n    pass", settings=QUIET.replace(python_cpu_seconds=1), timeout_seconds=60)
    assert result.status == "failed" and "CPU time limit" in result.error


# --- where the kernel cannot isolate -----------------------------------------------------------------


def test_scripts_are_refused_with_the_reason_when_the_sandbox_cannot_run(caplog):
    settings = QUIET.replace(script_bwrap="/nonexistent/bwrap")
    with caplog.at_level("WARNING", logger="flomation.executor.sandbox"):
        result, _ = run(chain(py("return 1")), settings=settings, context={"organisation_id": "org-7"})
    assert result.status == "failed"
    assert "run only inside a kernel sandbox" in result.error
    assert "bubblewrap (/nonexistent/bwrap) is not installed" in result.error
    assert "FLOMATION_SCRIPT_ISOLATION=process" in result.error
    refusals = [record.getMessage() for record in caplog.records if "refused" in record.getMessage()]
    assert refusals == [
        "script node n of organisation org-7 refused: no kernel sandbox "
        "(bubblewrap (/nonexistent/bwrap) is not installed)"
    ]
    assert bash("echo hi", settings=settings).error == result.error


def test_the_operator_can_opt_into_plain_processes_where_namespaces_are_missing():
    settings = QUIET.replace(script_bwrap="/nonexistent/bwrap", script_isolation="process")
    first = chain(
        node(
            "a",
            "script/python",
            {"code": "import os\nopen('note.txt', 'w').write('kept')\nreturn os.getcwd()"},
        ),
        node("b", "script/bash", {"script": "cat note.txt"}),
    )
    result, _ = run(first, settings=settings)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "b")["stdout"] == "kept"
    assert not os.path.exists(outputs_of(result, "a")["result"]["result"])  # removed after the run


# --- the warm worker ------------------------------------------------------------------------------------


def test_a_booted_worker_waits_for_the_next_run_and_outlives_the_thread_that_booted_it():
    from flomation.executor.sandbox import python as sandbox

    sandbox.discard_spares()
    assert sandbox.prestart(QUIET)  # boots in a helper thread that ends at once
    time.sleep(1.0)
    spare_process, spare_workspace = sandbox._SPARES[sandbox._key(QUIET)]
    assert spare_process.poll() is None
    result = run_py("open('/work/note.txt', 'w').write('x')\nimport os\nreturn sorted(os.listdir('/work'))")
    assert outputs_of(result)["result"] == {"result": ["note.txt"]}
    assert spare_process.poll() is not None and not os.path.exists(spare_workspace.path)  # that run took it
