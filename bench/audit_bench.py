"""What the audit log adds to a deployment and to a secret write: the same service calls with audit
recording on and off (settings.AUDIT_ENABLED, which exists for this benchmark only), interleaved in one run.

Run: .venv/bin/python bench/audit_bench.py [--rounds 400]
Uses the embedded PostgreSQL with its own database (flomation_bench_audit) unless DATABASE_URL is set.
Each call runs in its own transaction and commits, as a request would. Audit entries are appended to one
organisation's chain, so the figures include the chain lock and the read of the chain's head.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.launch_bench import BENCH_ENV as LAUNCH_BENCH_ENV  # noqa: E402

BENCH_ENV = {**LAUNCH_BENCH_ENV, "EMBEDDED_DATABASE_NAME": "flomation_bench_audit", "FLOMATION_ROLES": "api"}


def timed(call: Callable[[int], object], n: int) -> tuple[float, float, int]:
    """(wall ms, this process's CPU ms, SQL round trips) of one call: on a busy machine the wall time
    varies with the load; the CPU time and the round trips are what the audit itself adds."""
    from django.db import connection

    trips = 0

    def count(
        execute: Callable[..., object], sql: str, params: object, many: bool, context: object
    ) -> object:
        nonlocal trips
        trips += 1
        return execute(sql, params, many, context)

    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        call(n)
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, trips


def measure(rounds: int) -> dict[str, dict[bool, list[tuple[float, float, int]]]]:
    import django

    django.setup()
    from django.conf import settings

    from flomation.core.models import Account, AuditEntry, Organisation
    from flomation.core.services.deployments import workflow_deploy
    from flomation.core.services.organisations import organisation_create
    from flomation.core.services.secrets import secret_set
    from flomation.core.services.workflows import workflow_create

    suffix = os.urandom(4).hex()
    owner = Account.objects.create(id=__import__("uuid").uuid4(), email=f"bench-{suffix}@example.test")
    organisation: Organisation = organisation_create(name=f"Audit bench {suffix}", owner=owner)
    flow = {
        "nodes": [
            {"id": "t1", "type": "trigger/manual", "data": {"label": "trigger/manual", "config": {"type": 1, "inputs": []}}},
            {"id": "o1", "type": "output/set", "data": {"label": "output/set", "config": {"type": 3, "inputs": [
                {"name": "name", "type": "string", "value": "x"}, {"name": "value", "type": "string", "value": "y"}]}}},
        ],
        "edges": [{"id": "e1", "source": "t1", "target": "o1"}],
    }  # fmt: skip
    workflow = workflow_create(organisation=organisation, name="Bench", created_by=owner, flow=flow)
    environment = organisation.environments.get(name="development")
    # A chain of realistic length: the head is read through the index, whatever the history behind it.
    for n in range(200):
        secret_set(environment=environment, name=f"WARM_{n}", value="x" * 40)
    operations: dict[str, Callable[[int], object]] = {
        "deployment (workflow_deploy)": lambda n: workflow_deploy(
            workflow=workflow, environment=environment, deployed_by=owner
        ),
        "secret write (secret_set)": lambda n: secret_set(
            environment=environment, name=f"KEY_{n % 50}", value=f"value-{n}-" + "s" * 32
        ),
    }
    results: dict[str, dict[bool, list[tuple[float, float, int]]]] = {
        name: {True: [], False: []} for name in operations
    }
    for n in range(rounds):
        for name, operation in operations.items():
            # Alternate which setting goes first, so drift and caches favour neither.
            for enabled in (True, False) if n % 2 == 0 else (False, True):
                settings.AUDIT_ENABLED = enabled
                results[name][enabled].append(timed(operation, n))
    settings.AUDIT_ENABLED = True
    print(f"  audit entries in the bench organisation's chain: "
          f"{AuditEntry.objects.filter(organisation_id=organisation.id).count()}")  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flomation.settings")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)
    print(
        f"audit cost, {args.rounds} calls each with audit on and off (interleaved), one transaction per call"
    )
    results = measure(args.rounds)
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall times grow with it)")
    for name, by_setting in results.items():
        figures = {}
        for enabled, samples in by_setting.items():
            wall = [s[0] for s in samples]
            figures[enabled] = (
                statistics.median(wall),
                statistics.quantiles(wall, n=20)[-1],
                statistics.median(s[1] for s in samples),
                statistics.median(s[2] for s in samples),
            )
        print(f"  {name}")
        for enabled in (False, True):
            wall, p95, cpu, trips = figures[enabled]
            label = "on: " if enabled else "off:"
            print(
                f"    audit {label} wall median {wall:6.2f} ms  p95 {p95:6.2f} ms  CPU {cpu:5.2f} ms  {trips:g} SQL round trips"
            )
        (on, _, cpu_on, trips_on), (off, _, cpu_off, trips_off) = figures[True], figures[False]
        print(
            f"    added:    wall {on - off:+6.2f} ms ({(on - off) / off:+.0%})  CPU {cpu_on - cpu_off:+5.2f} ms  "
            f"{trips_on - trips_off:+g} round trips"
        )


if __name__ == "__main__":
    main()
