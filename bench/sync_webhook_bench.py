"""Synchronous webhooks end to end: `manage.py serve --role all` (built-in runner included) driven by wrk.

A deployed flow Webhook -> object/merge -> output/web_response is called

* in `lastNode` mode (the request waits for the flow's answer) at 1, 10, 50 and 200 connections: requests/s,
  p50/p99 as wrk sees them, how many answers were the flow's own (200) and how many executions were stored;
* in `immediate` mode (202 at once) at 10 connections: requests/s accepted, then the time until the runner
  has finished every accepted execution, as finished executions per second (first created to last finished).

The flow is made only of inline nodes, so `serve` runs it in the web process that received the request
(see "Inline runs" in docs/operations.md); `--inline-runs 0` measures the same flow through the built-in
runner instead.

Run: .venv/bin/python bench/sync_webhook_bench.py [--duration 10] [--connections 1,10,50,200] [--immediate 10]
     [--inline-runs 0]
Needs wrk. Uses the embedded PostgreSQL with its own database (flomation_bench_sync) unless DATABASE_URL is
set. Targets on a 2-core machine: lastNode >= 200 requests/s at 1 connection, >= 300/s at 10 and 50, p99 <=
100 ms at 10, still answering (and the runner still claiming) at 200; immediate mode finishing >= 400
executions/s at 10 connections. The machine's load average is printed with every point: other work on the
box moves these figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.launch_bench import BENCH_ENV as LAUNCH_BENCH_ENV  # noqa: E402
from bench.launch_bench import cpu_seconds, free_port, parse  # noqa: E402

BENCH_ENV = {
    **LAUNCH_BENCH_ENV,
    "EMBEDDED_DATABASE_NAME": "flomation_bench_sync",
    "FLOMATION_ROLES": "all",
    "AUTH_COOKIE_SECURE": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
}
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"order": 42, "customer": "c-1"}'
wrk.headers["Content-Type"] = "application/json"
"""
ORGANISATION = "sync-webhook-bench"


def _node(node_id: str, action: str, kind: int, inputs: list[dict[str, object]]) -> dict[str, object]:
    config = {"id": node_id, "type": kind, "inputs": inputs, "outputs": []}
    return {"id": node_id, "type": action, "data": {"id": node_id, "label": action, "config": config}}


def flow(mode: str) -> dict[str, object]:
    """Webhook -> merge the posted body with a constant -> answer it as the web response."""
    nodes = [
        _node("hook", "trigger/webhook", 1, [
            {"name": "responseMode", "type": "string", "value": mode},
            {"name": "rate_limit", "type": "integer", "value": 0},
            {"name": "timeout", "type": "integer", "value": 20000}]),
        _node("merge", "object/merge", 2, [
            {"name": "a", "type": "object", "value": "${hook.body}"},
            {"name": "b", "type": "object", "value": {"handled": True}}]),
        _node("answer", "output/web_response", 3, [
            {"name": "body", "type": "any", "value": "${merge.result}"},
            {"name": "status_code", "type": "integer", "value": 200}]),
    ]  # fmt: skip
    edges = [
        {"id": "e1", "source": "hook", "target": "merge"},
        {"id": "e2", "source": "merge", "target": "answer"},
    ]
    return {"nodes": nodes, "edges": edges}


def set_up_trigger(mode: str) -> str:
    """A deployed workflow for `mode` with a fresh revision; returns its webhook's public id."""
    import django

    django.setup()
    from django.db import transaction

    from flomation.core.models import Deployment, Environment, Organisation, Revision, Workflow
    from flomation.core.signals import deployment_activated
    from flomation.launch.models import Trigger

    with transaction.atomic():
        organisation, _ = Organisation.objects.get_or_create(
            slug=ORGANISATION, defaults={"name": "Sync webhook bench"}
        )
        environment, _ = Environment.objects.get_or_create(organisation=organisation, name="production")
        workflow, _ = Workflow.objects.get_or_create(organisation=organisation, name=f"Sync bench {mode}")
        number = workflow.latest_revision + 1
        revision = Revision.objects.create(workflow=workflow, number=number, flow=flow(mode))
        Workflow.objects.filter(id=workflow.id).update(latest_revision=number)
        Deployment.objects.filter(workflow=workflow, environment=environment, is_current=True).update(
            is_current=False
        )
        deployment = Deployment.objects.create(workflow=workflow, environment=environment, revision=revision)
        deployment_activated.send(sender=Deployment, deployment=deployment)
    return Trigger.objects.get(workflow=workflow, environment=environment, node_id="hook").public_id


def executions(mode: str) -> dict[str, object]:
    """Counts of this mode's executions: stored, finished, and the first creation / last finish times."""
    from django.db import connection
    from django.db.models import Count, Max, Min, Q

    from flomation.core.models import Execution, ExecutionState

    connection.close()
    return Execution.objects.filter(
        workflow__name=f"Sync bench {mode}", workflow__organisation__slug=ORGANISATION
    ).aggregate(
        stored=Count("id"),
        finished=Count("id", filter=Q(state__in=ExecutionState.finished())),
        succeeded=Count("id", filter=Q(state=ExecutionState.SUCCEEDED)),
        first_created=Min("created_at"),
        last_finished=Max("finished_at"),
    )


def purge(mode: str) -> None:
    from flomation.core.models import Execution

    Execution.objects.filter(
        workflow__name=f"Sync bench {mode}", workflow__organisation__slug=ORGANISATION
    ).delete()


def run_wrk(url: str, *, duration: int, connections: int, threads: int, script: Path) -> str:
    """wrk with a 30 s timeout: a lastNode answer may take seconds under load, and wrk's default (2 s)
    would count it as a timeout and leave it out of the latency figures."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency"]
    command += ["-s", str(script), url]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def wrk_point(url: str, *, connections: int, duration: int, script: Path) -> tuple[dict[str, float], str]:
    load = os.getloadavg()[0]
    output = run_wrk(
        url, duration=duration, connections=connections, threads=min(connections, 2), script=script
    )
    return parse(output), f"{load:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per point")
    parser.add_argument("--connections", default="1,10,50,200", help="lastNode points (wrk connections)")
    parser.add_argument("--immediate", type=int, default=10, help="connections of the immediate-mode point")
    parser.add_argument("--workers", type=int, default=0, help="web workers (default: the setting's)")
    parser.add_argument("--finish-timeout", type=float, default=120.0, help="seconds to wait for the runner")
    parser.add_argument(
        "--inline-runs",
        type=int,
        default=None,
        help="FLOMATION_INLINE_RUNS for serve (0: every run on the runner)",
    )
    args = parser.parse_args()
    if args.inline_runs is not None:
        os.environ["FLOMATION_INLINE_RUNS"] = str(args.inline_runs)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flomation.settings")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The built-in runner talks to this server, not to the default public URL.
    os.environ.update({"API_URL": base, "FLOMATION_PUBLIC_URL": base, "FLOMATION_API": base})
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)
    hooks = {mode: set_up_trigger(mode) for mode in ("lastNode", "immediate")}
    for mode in hooks:
        purge(mode)
    command = [*manage, "serve", "--role", "all", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(args.workers)] if args.workers else []
    log_path = Path(tempfile.gettempdir()) / f"sync-webhook-bench-{port}.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script_file:
        script_file.write(WRK_SCRIPT)
    script = Path(script_file.name)
    url = {mode: f"{base}/launch/webhook/{public_id}" for mode, public_id in hooks.items()}
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while True:  # up, and the built-in runner registered and answering
            try:
                answer = requests.post(url["lastNode"], json={"warm": 1}, timeout=25)
                if answer.status_code == 200:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"serve did not answer a lastNode webhook; see {log_path}")
            time.sleep(0.5)
        run_wrk(url["lastNode"], duration=2, connections=4, threads=2, script=script)  # warm every worker
        lines.append(
            f"{'mode':<10}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'non-2xx':>9}"
            f"{'stored':>8}{'done':>7}{'fin/s':>8}{'cpu ms':>8}  load"
        )
        database = os.environ["EMBEDDED_DATABASE_NAME"]

        def cpu() -> float:
            return sum(cpu_seconds(group=server.pid, database=database))

        for connections in [int(value) for value in args.connections.split(",") if value]:
            before, cpu_before = executions("lastNode"), cpu()
            result, load = wrk_point(
                url["lastNode"], connections=connections, duration=args.duration, script=script
            )
            time.sleep(1.0)
            after = executions("lastNode")
            stored = after["stored"] - before["stored"]
            done = after["finished"] - before["finished"]
            lines.append(
                f"{'lastNode':<10}{connections:>6}{result['rps']:>9.1f}{result['p50_ms']:>9.1f}"
                f"{result['p99_ms']:>9.1f}{result['requests']:>10}{result['non_2xx']:>9}{stored:>8}{done:>7}"
                f"{'':>8}  {load}"
            )
            drained = _drain("lastNode", args.finish_timeout)
            used = (cpu() - cpu_before) * 1000 / max(1, drained["finished"] - before["finished"])
            lines[-1] = lines[-1].replace(f"{'':>8}  {load}", f"{'':>8}{used:>8.1f}  {load}")
            print(lines[-1], flush=True)
        cpu_before = cpu()
        result, load = wrk_point(
            url["immediate"], connections=args.immediate, duration=args.duration, script=script
        )
        accepted_at = time.monotonic()
        counts = _drain("immediate", args.finish_timeout)
        drained = time.monotonic() - accepted_at
        span = (
            (counts["last_finished"] - counts["first_created"]).total_seconds()
            if counts["last_finished"]
            else 0
        )
        rate = counts["finished"] / span if span > 0 else 0.0
        used = (cpu() - cpu_before) * 1000 / max(1, counts["finished"])
        lines.append(
            f"{'immediate':<10}{args.immediate:>6}{result['rps']:>9.1f}{result['p50_ms']:>9.1f}"
            f"{result['p99_ms']:>9.1f}{result['requests']:>10}{result['non_2xx']:>9}{counts['stored']:>8}"
            f"{counts['finished']:>7}{rate:>8.1f}{used:>8.1f}  {load}"
        )
        print(lines[-1], flush=True)
        lines.append(
            f"immediate: every accepted execution finished {drained:.1f} s after wrk stopped"
            if counts["finished"] == counts["stored"]
            else f"immediate: {counts['stored'] - counts['finished']} executions still unfinished after "
            f"{args.finish_timeout:.0f} s"
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    from django.conf import settings

    print()
    print(
        f"serve --role all: {args.workers or settings.WEB_WORKERS} workers x {settings.WEB_THREADS} threads, "
        f"{args.duration} s per point, load average now {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}), "
        f"inline runs {'off' if settings.INLINE_RUNS == 0 else f'on ({settings.INLINE_RUNS} per process)'}"
    )
    print("\n".join(lines))
    print("fin/s: executions finished per second, first created to last finished (immediate mode)")
    print(
        "cpu ms: CPU per finished execution, serve's processes (web, runner, executors) + PostgreSQL backends"
    )


def _drain(mode: str, timeout: float) -> dict[str, object]:
    """Waits until every stored execution of `mode` has finished (or `timeout`); returns the counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = executions(mode)
        if counts["finished"] >= counts["stored"] or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


if __name__ == "__main__":
    main()
