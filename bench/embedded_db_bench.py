"""Embedded PostgreSQL start-up: first start (initdb), then warm starts of a stopped server with its data
kept, each in a fresh process as `manage.py` would do it, compared with joining an already running server.

Run: .venv/bin/python bench/embedded_db_bench.py   (target: a warm start is ready in under 5 s)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import sys, psycopg; from flomation.db import ensure_embedded_server as e; s = e(sys.argv[1]); "
    "psycopg.connect(host=s.socket_dir, port=s.port, user='postgres', dbname='postgres').execute('SELECT 1')"
)


def timed_start(data_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", PROBE, str(data_dir)], cwd=ROOT, check=True)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "pg"
        cold = timed_start(data_dir)
        warm = [timed_start(data_dir) for _ in range(5)]
        holder = subprocess.Popen(
            [sys.executable, "-c", PROBE + "; print('up', flush=True); import time; time.sleep(60)", str(data_dir)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        holder.stdout.readline()
        joined = [timed_start(data_dir) for _ in range(5)]
        holder.kill()
        holder.wait()
        bare = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import psycopg"], check=True)
            bare.append(time.perf_counter() - started)
    print("embedded PostgreSQL start-up, process start to first query answered")
    print(f"  first start (initdb + start):      {cold:6.2f} s")
    print(
        f"  warm start, median of 5:           {statistics.median(warm):6.2f} s  (max {max(warm):.2f} s; target < 5 s)"
    )
    print(f"  join a running server, median:     {statistics.median(joined):6.2f} s")
    print(f"  bare interpreter + psycopg import: {statistics.median(bare):6.2f} s  (baseline)")


if __name__ == "__main__":
    main()
