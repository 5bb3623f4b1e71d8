"""Runner benchmark: executions per second end to end, and trigger-to-first-node latency, on one box.

    .venv/bin/python bench/runner_bench.py [--executions 1000] [--latency-samples 200] [--slots 1,4]

Starts `manage.py serve --role identity,api` (gunicorn) on a free loopback port against its own database
in the embedded PostgreSQL, and a real `flomation-runner` process (warm executor pool) enrolled in the
shared queue. Executions of a 3-node flow (trigger -> upper-case -> set output) are created through the
API (`POST /api/v1/organisations/<org>/workflows/<id>/run`, Bearer token) by several client threads;
they are claimed, run and their results stored by the runner.

* throughput: N / (last finished_at - first created_at), all executions created as fast as the clients can;
* latency: executions created one at a time on an idle system; the time from the execution's creation
  to the first node's step being stored (both stamped by the API on the same clock);
* CPU per execution during the throughput run, by process: the API (gunicorn workers), the runner (with
  its executors), PostgreSQL (this benchmark's database's backends) and the creating clients (this
  process). Unlike wall-clock figures, these hold on a busy machine.

Prints figures; it is not a test. Not a target of CI.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_ENV = {
    "DEBUG": "false",
    "FLOMATION_IGNORE_DOTENV": "1",
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
    "AUTH_SECRET": "bench-auth-secret-not-for-production-0123456789abcdef",
    "FLOMATION_ENCRYPTION_KEY": "2ZkWfZc9gBvY3Ahq0hX9jQ5mS8h0o0l3Xr0mXb3n5uU=",
    "EMBEDDED_DATABASE_NAME": "flomation_runner_bench",
    "LOG_LEVEL": "WARNING",
    "AUTH_COOKIE_SECURE": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
}


def _ticks(pid: int) -> tuple[int, int]:
    """(parent pid, CPU ticks used by the process and its reaped children) from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(value) for value in fields[11:15])


def cpu_snapshot(roots: dict[str, int], database: str) -> dict[str, dict[int, int]]:
    """CPU ticks per process, grouped: the trees under `roots`, and the backends of `database`."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    groups: dict[str, dict[int, int]] = {name: {} for name in [*roots, "postgres"]}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parents[int(entry)], ticks[int(entry)] = _ticks(int(entry))
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if command.startswith("postgres: ") and f" {database} " in command:
            groups["postgres"][int(entry)] = ticks[int(entry)]
    owners = {root: name for name, root in roots.items()}
    for pid in ticks:
        ancestor = pid
        while ancestor > 1 and ancestor not in owners:  # the nearest root owns it
            ancestor = parents.get(ancestor, 1)
        if ancestor in owners:
            groups[owners[ancestor]][pid] = ticks[pid]
    return groups


def cpu_per_execution(before: dict[str, dict[int, int]], after: dict[str, dict[int, int]], count: int) -> str:
    """Milliseconds of CPU per execution by group, e.g. "API 4.1, runner 3.0, ..."."""
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    parts = []
    for name, now in after.items():
        used = sum(value - before[name].get(pid, 0) for pid, value in now.items())
        parts.append(f"{name} {used * tick_ms / count:.2f}")
    return ", ".join(parts)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django() -> None:
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    os.environ["FLOMATION_ROLES"] = "identity,api"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flomation.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_fixture() -> tuple[str, str, str, str]:
    """An organisation with an owner, a 3-node workflow; returns (org id, workflow id, token, shared code)."""
    from flomation.core.models import Account, MemberRole, Membership, Organisation, Revision, Workflow
    from flomation.core.services.queues import queue_registration_code, queue_shared
    from flomation.identity.models import User
    from flomation.identity.services.sessions import session_create
    from tests.runner.flows import three_node_flow

    suffix = uuid.uuid4().hex[:8]
    user = User.objects.create_user(f"bench-{suffix}@example.test", None, display_name="Bench")
    account = Account.objects.create(id=user.id, email=user.email)
    organisation = Organisation.objects.create(name=f"Bench {suffix}", slug=f"bench-{suffix}")
    Membership.objects.create(organisation=organisation, account=account, role=MemberRole.OWNER)
    workflow = Workflow.objects.create(organisation=organisation, name="bench", latest_revision=1)
    Revision.objects.create(workflow=workflow, number=1, flow=three_node_flow())
    token = session_create(user=user)[1]
    return str(organisation.id), str(workflow.id), token, queue_registration_code(queue=queue_shared())


def wait_http(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the API did not start at {url}")


class Creator:
    """Creates executions through the API from several threads; returns their ids."""

    def __init__(self, api: str, org_id: str, workflow_id: str, token: str) -> None:
        self.url = f"{api}/api/v1/organisations/{org_id}/workflows/{workflow_id}/run"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.local = threading.local()

    def create(self, index: int) -> str:
        import requests

        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        response = session.post(
            self.url, json={"inputs": {"name": f"n{index}"}}, headers=self.headers, timeout=30
        )
        if response.status_code != 201:
            raise SystemExit(f"creating an execution failed: {response.status_code} {response.text[:300]}")
        return response.json()["id"]

    def create_many(self, count: int, threads: int) -> list[str]:
        ids: list[str] = []
        lock = threading.Lock()
        counter = iter(range(count))

        def work() -> None:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                execution_id = self.create(index)
                with lock:
                    ids.append(execution_id)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return ids


class ServiceCreator(Creator):
    """Creates executions in this process through core's execution_create, as an in-process trigger does:
    measures the runner path (NOTIFY, claim, run, report) without the REST API's per-request cost."""

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        self.local = threading.local()

    def create(self, index: int) -> str:
        from django.db import connection

        from flomation.core.executions.create import execution_create
        from flomation.core.models import Workflow

        workflow = getattr(self.local, "workflow", None) or Workflow.objects.select_related(
            "organisation"
        ).get(id=self.workflow_id)
        self.local.workflow = workflow
        created = execution_create(
            workflow=workflow, trigger_type="manual", trigger_data={"name": f"n{index}"}
        )
        if threading.current_thread() is not threading.main_thread() and index % 50 == 49:
            connection.close_if_unusable_or_obsolete()
        return str(created.execution.id)


def wait_finished(ids: list[str], timeout: float = 300) -> None:
    from flomation.core.models import Execution

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Execution.objects.filter(id__in=ids, state="succeeded").count() == len(ids):
            return
        time.sleep(0.1)
    rows = Execution.objects.filter(id__in=ids).values_list("state", flat=True)
    states = {state: list(rows).count(state) for state in set(rows)}
    raise SystemExit(f"not all executions succeeded in time: {states}")


def throughput(creator: Creator, count: int, threads: int) -> float:
    from django.db.models import Max, Min

    from flomation.core.models import Execution

    ids = creator.create_many(count, threads)
    wait_finished(ids)
    span = Execution.objects.filter(id__in=ids).aggregate(first=Min("created_at"), last=Max("finished_at"))
    return count / (span["last"] - span["first"]).total_seconds()


def latencies(creator: Creator, samples: int) -> list[float]:
    from django.db.models import Min

    from flomation.core.models import Execution, ExecutionStep

    ids = []
    for index in range(samples):
        ids.append(creator.create(index))
        time.sleep(0.02)
    wait_finished(ids)
    created = dict(Execution.objects.filter(id__in=ids).values_list("id", "created_at"))
    first = (
        ExecutionStep.objects.filter(execution_id__in=ids)
        .values("execution_id")
        .annotate(at=Min("created_at"))
    )
    return sorted((row["at"] - created[row["execution_id"]]).total_seconds() * 1000 for row in first)


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--slots", default="1,4")
    parser.add_argument("--clients", type=int, default=8, help="threads creating executions")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--prefetch", type=int, help="executions the runner claims ahead of its slots (default: its own)"
    )
    options = parser.parse_args()

    setup_django()
    org_id, workflow_id, token, code = make_fixture()
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FLOMATION_ROLES": "identity,api", "API_URL": api, "FLOMATION_PUBLIC_URL": api}
    server = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.web_workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    creators = {"API": Creator(api, org_id, workflow_id, token), "service": ServiceCreator(workflow_id)}
    print(
        f"Runner benchmark: {os.cpu_count()} CPUs, API {api} ({options.web_workers} gunicorn workers), 3-node flow"
    )
    try:
        wait_http(api)
        for slots in [int(s) for s in options.slots.split(",")]:
            with tempfile.TemporaryDirectory() as state:
                runner_env = {
                    **{k: v for k, v in os.environ.items() if not k.startswith("FLOMATION_")},
                    "PYTHONPATH": str(ROOT),
                    "FLOMATION_API": api,
                    "FLOMATION_REGISTRATION_CODE": code,
                    "FLOMATION_RUNNER_NAME": f"bench-{slots}",
                    "FLOMATION_RUNNER_STATE_DIRECTORY": state,
                    "FLOMATION_RUNNER_MAX_EXECUTORS": str(slots),
                    "LOG_LEVEL": "WARNING",
                    **(
                        {}
                        if options.prefetch is None
                        else {"FLOMATION_RUNNER_PREFETCH": str(options.prefetch)}
                    ),
                }
                runner = subprocess.Popen(
                    [sys.executable, "-m", "flomation.runner"], cwd=state, env=runner_env
                )
                try:
                    wait_finished(creators["API"].create_many(20, 2))  # warm-up: registration, executors
                    roots = {"API": server.pid, "runner": runner.pid, "clients": os.getpid()}
                    database = os.environ["EMBEDDED_DATABASE_NAME"]
                    for label, creator in creators.items():
                        before = cpu_snapshot(roots, database)
                        rate = throughput(creator, options.executions, options.clients)
                        cpu = cpu_per_execution(before, cpu_snapshot(roots, database), options.executions)
                        lat = latencies(creator, options.latency_samples)
                        print(
                            f"  {slots} slot(s), created via {label:7}: {rate:6.1f} executions/s end to end "
                            f"({options.executions} executions, {options.clients} creating threads); "
                            f"trigger-to-first-node p50 {percentile(lat, 0.5):.1f} ms, "
                            f"p99 {percentile(lat, 0.99):.1f} ms ({len(lat)} samples)\n"
                            f"      CPU ms per execution: {cpu}",
                            flush=True,
                        )
                finally:
                    runner.terminate()
                    runner.wait(10)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
