"""Script isolation through the real runner: two organisations' executions at once on one runner's warm pool,
one attacking the other and the platform over the network."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from flomation.core.models import Execution, ExecutionStep
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f
from tests.runner.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

VICTIM = """
import resource, time
open('/work/secret.txt', 'w').write('org-a-private')
time.sleep(6)
return {'alive': True, 'cpu': resource.getrlimit(resource.RLIMIT_CPU), 'secret': open('/work/secret.txt').read()}
"""

ATTACK = """
import ctypes, os, resource, signal, socket
libc = ctypes.CDLL(None, use_errno=True)
prlimit64 = {"x86_64": 302, "aarch64": 261}[os.uname().machine]
class Limit(ctypes.Structure):
    _fields_ = [("soft", ctypes.c_uint64), ("hard", ctypes.c_uint64)]
outcomes = {}
def attempt(name, call):
    try:
        value = call()
        outcomes[name] = "ok" if value is None or (isinstance(value, int) and value >= 0) else f"errno {ctypes.get_errno()}"
    except OSError as error:
        outcomes[name] = type(error).__name__
for pid in inputs["pids"]:
    attempt(f"kill {pid}", lambda: os.kill(pid, signal.SIGKILL))
    attempt(f"prlimit {pid}", lambda: libc.syscall(prlimit64, pid, resource.RLIMIT_CPU, ctypes.byref(Limit(1, 1)), None))
    attempt(f"ptrace {pid}", lambda: libc.ptrace(16, pid, None, None))
for path in inputs["workspaces"]:
    attempt(f"read {path}", lambda: open(path + "/secret.txt").read())
attempt("read /etc/passwd", lambda: open("/etc/passwd").read())
attempt("connect to the API", lambda: socket.create_connection((inputs["api_host"], inputs["api_port"]), timeout=2).close())
attempt("connect to PostgreSQL", lambda: socket.create_connection(("127.0.0.1", 5432), timeout=2).close())
return outcomes
"""


def script_flow(code: str, inputs: str | None = None) -> dict:
    python_inputs = [{"name": "code", "type": "code", "value": code}]
    if inputs is not None:
        python_inputs.append({"name": "inputs_data", "type": "object", "value": inputs})
    return f.chain(
        f.node("t1", "trigger/manual", 1),
        f.node("p1", "script/python", 2, python_inputs),
        f.node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "outcome"},
                {"name": "value", "type": "object", "value": "${p1.result}"},
            ],
        ),
    )


def worker_pids() -> list[int]:
    pids = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pyworker.py" in command and not command.startswith(b"bwrap"):
            pids.append(int(entry))
    return pids


def test_a_script_cannot_kill_limit_trace_or_read_another_organisations_run_on_the_same_runner(
    start_runner, live_api
):
    code = queue_registration_code(queue=queue_shared())
    start_runner(code, slots=2)
    victim = f.run(f.make_workflow(f.make_organisation(), script_flow(VICTIM)))
    running = ExecutionStep.objects.filter(execution=victim, node_id="p1", status="running")
    wait_until(running.exists, timeout=30)
    workspaces: list[str] = []

    def victim_wrote_its_secret() -> bool:
        found = Path(tempfile.gettempdir()).glob("flomation-work-*/secret.txt")
        workspaces[:] = [str(path.parent) for path in found]
        return bool(workspaces)

    wait_until(victim_wrote_its_secret, timeout=10)
    pids = worker_pids()
    assert pids
    api = urlsplit(live_api)
    attacker = f.run(
        f.make_workflow(f.make_organisation(), script_flow(ATTACK, "${t1}")),
        {"pids": pids, "workspaces": workspaces, "api_host": api.hostname, "api_port": api.port},
    )
    done = ("succeeded", "failed")
    wait_until(
        lambda: Execution.objects.filter(id__in=[victim.id, attacker.id], state__in=done).count() == 2,
        timeout=60,
    )
    attacked = Execution.objects.get(id=attacker.id)
    assert attacked.state == "succeeded", attacked.error
    outcomes = attacked.outputs["outcome"]
    assert len(outcomes) == 3 * len(pids) + len(workspaces) + 3
    assert "ok" not in outcomes.values(), outcomes
    survived = Execution.objects.get(id=victim.id)
    assert survived.state == "succeeded", survived.error
    assert survived.outputs["outcome"] == {"alive": True, "cpu": [300, 301], "secret": "org-a-private"}
    time.sleep(0.2)
    assert not Path(workspaces[0]).exists()  # the victim's workspace went with its run
