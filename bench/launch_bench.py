"""Webhook ingress throughput: `manage.py serve --role launch` with an immediate-mode webhook, driven by wrk.

Every 202 means an Execution row (and its Invocation) was committed before the answer; the script checks
the row count against wrk's request count afterwards.

Run: .venv/bin/python bench/launch_bench.py [--duration 20] [--connections 16] [--workers N]
Needs wrk (apt-get install -y wrk). Uses the embedded PostgreSQL with its own database
(flomation_bench_launch) unless DATABASE_URL is set. Target on a 2-core machine: >= 1000 req/s, p99 <= 50 ms.

Why 16 connections: wrk is a closed loop, so its connection count is the number of requests in flight. At
1,000 requests/s answered in a few milliseconds each, senders arriving independently have about 5-10
requests in flight; 16 covers their bursts. With 32 or more on 2 cores, the latency wrk measures is mostly
requests queueing behind each other, not the cost of one request (pass --connections 32 to see it).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
    "AUTH_SECRET": "bench-auth-secret-not-for-production-0123456789",
    "FLOMATION_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"launch-bench-key-32-bytes-long!!").decode(),
    "EMBEDDED_DATABASE_NAME": "flomation_bench_launch",
    "FLOMATION_ROLES": "launch",
    "LOG_LEVEL": "WARNING",
    "FLOMATION_IGNORE_DOTENV": "1",
}
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"order": 42, "customer": "c-1"}'
wrk.headers["Content-Type"] = "application/json"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def set_up_trigger() -> str:
    """A deployed workflow with an immediate-mode webhook (no auth, no rate limit); returns its public id."""
    import django

    django.setup()
    from django.db import transaction

    from flomation.core.models import Deployment, Environment, Organisation, Revision, Workflow
    from flomation.core.signals import deployment_activated
    from flomation.launch.models import Trigger

    node = {"id": "hook", "type": "trigger/webhook", "data": {"label": "trigger/webhook", "config": {"type": 1, "inputs": [
        {"name": "responseMode", "type": "string", "value": "immediate"},
        {"name": "rate_limit", "type": "integer", "value": 0}]}}}  # fmt: skip
    with transaction.atomic():
        organisation, _ = Organisation.objects.get_or_create(
            slug="launch-bench", defaults={"name": "Launch bench"}
        )
        environment, _ = Environment.objects.get_or_create(organisation=organisation, name="production")
        workflow, _ = Workflow.objects.get_or_create(organisation=organisation, name="Webhook bench")
        number = workflow.latest_revision + 1
        revision = Revision.objects.create(
            workflow=workflow, number=number, flow={"nodes": [node], "edges": []}
        )
        Workflow.objects.filter(id=workflow.id).update(latest_revision=number)
        Deployment.objects.filter(workflow=workflow, environment=environment, is_current=True).update(
            is_current=False
        )
        deployment = Deployment.objects.create(workflow=workflow, environment=environment, revision=revision)
        deployment_activated.send(sender=Deployment, deployment=deployment)
    return Trigger.objects.get(workflow=workflow, environment=environment, node_id="hook").public_id


def execution_count() -> int:
    from django.db import connection

    from flomation.core.models import Execution

    connection.close()
    return Execution.objects.filter(
        workflow__name="Webhook bench", workflow__organisation__slug="launch-bench"
    ).count()


def cpu_seconds(*, group: int, database: str) -> tuple[float, float]:
    """CPU (user + system) so far of the serve process group, and of PostgreSQL backends on `database`."""
    tick = os.sysconf("SC_CLK_TCK")
    served = backends = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            used = (int(fields[11]) + int(fields[12])) / tick
            if int(fields[2]) == group:
                served += used
            elif database in Path(f"/proc/{pid}/cmdline").read_text():
                backends += used
        except (OSError, ValueError, IndexError):
            continue
    return served, backends


def run_wrk(url: str, *, duration: int, connections: int, threads: int, script: Path) -> str:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def parse(output: str) -> dict[str, float]:
    def seconds(value: str, unit: str) -> float:
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)\b", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s|m)\b", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "rps": rps,
        "p50_ms": seconds(*p50.groups()) * 1000,
        "p99_ms": seconds(*p99.groups()) * 1000,
        "requests": total,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (requests in flight)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: the setting's)")
    parser.add_argument("--web-threads", type=int, default=0, help="threads per gunicorn worker")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flomation.settings")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)
    public_id = set_up_trigger()
    port = free_port()
    command = [*manage, "serve", "--role", "launch", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(args.workers)] if args.workers else []
    command += ["--threads", str(args.web_threads)] if args.web_threads else []
    log_path = Path(tempfile.gettempdir()) / f"launch-bench-{port}.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/launch/webhook/{public_id}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.post(url, json={}, timeout=2).status_code == 202:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"serve did not come up; see {log_path}")
            time.sleep(0.2)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        run_wrk(url, duration=3, connections=args.connections, threads=args.threads, script=Path(script.name))
        before = execution_count()
        load_before = os.getloadavg()
        cpu_before = cpu_seconds(group=server.pid, database=os.environ["EMBEDDED_DATABASE_NAME"])
        output = run_wrk(
            url,
            duration=args.duration,
            connections=args.connections,
            threads=args.threads,
            script=Path(script.name),
        )
        load_after = os.getloadavg()
        cpu_after = cpu_seconds(group=server.pid, database=os.environ["EMBEDDED_DATABASE_NAME"])
        after = execution_count()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
    result = parse(output)
    committed = after - before
    print(output)
    from django.conf import settings

    print(
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s; serve --role launch: "
        f"{args.workers or settings.WEB_WORKERS} workers x {args.web_threads or settings.WEB_THREADS} threads; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    print(f"requests/s: {result['rps']:.0f}")
    served, backends = (
        (after_ - before_) / max(1, result["requests"]) * 1e6
        for before_, after_ in zip(cpu_before, cpu_after, strict=True)
    )
    print(f"CPU per request: serve (gunicorn workers) {served:.0f} us, PostgreSQL backends {backends:.0f} us")
    print(f"latency p50: {result['p50_ms']:.1f} ms, p99: {result['p99_ms']:.1f} ms")
    print(
        f"requests: {result['requests']}, non-2xx: {result['non_2xx']}, execution rows committed: {committed}"
    )
    ok = result["rps"] >= 1000 and result["p99_ms"] <= 50 and result["non_2xx"] == 0
    print("target (>= 1000 req/s, p99 <= 50 ms, every request committed):", "met" if ok else "NOT met")
    # wrk stops mid-flight at the deadline, so a few requests it did not count may still have committed.
    if committed < result["requests"] - result["non_2xx"]:
        sys.exit("fewer execution rows than accepted requests: an accepted request was lost")


if __name__ == "__main__":
    main()
