"""A run's scripts together are held to FLOMATION_SCRIPT_RUN_MEMORY_MB (a memory cgroup per run): several
processes, each under the per-process limit, cannot add up past the run's cap. Runs as root, as CI does."""

from __future__ import annotations

import os

import pytest
from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.executor.sandbox.cgroup import _own_memory_cgroup

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or _own_memory_cgroup() is None, reason="needs root and a memory cgroup to divide"
)

QUIET = {"log": lambda *a: None}
FOUR_CHILDREN = """
import subprocess, sys
code = "import time; x = b'x' * (100 << 20); time.sleep(3)"
children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
return {"codes": [child.wait() for child in children]}
"""


def _run(code: str, **settings):
    result, _ = run(
        chain(node("n", "script/python", {"code": code})), settings=ExecutorSettings(**QUIET, **settings)
    )
    return result


def test_processes_that_each_fit_cannot_add_up_past_the_runs_cap():
    free = _run(FOUR_CHILDREN, script_memory_mb=256)
    assert free.status == "succeeded", free.error
    assert outputs_of(free)["result"]["codes"] == [0, 0, 0, 0]  # 400 MB in all: fine without a cap per run
    capped = _run(FOUR_CHILDREN, script_memory_mb=256, script_run_memory_mb=250)
    assert capped.status == "succeeded", capped.error
    assert -9 in outputs_of(capped)["result"]["codes"]  # the kernel ended one of this run's processes


@pytest.mark.parametrize("prestart", [True, False], ids=["booted-spare", "started-in-run"])
def test_a_worker_ended_for_the_runs_memory_says_so(prestart):
    settings = {"script_memory_mb": 512, "script_run_memory_mb": 150, "python_prestart": prestart}
    if prestart:  # a first run leaves a booted worker behind, which the next run adopts into its cgroup
        assert _run("return 1", **settings).status == "succeeded"
    result = _run("x = b'x' * (300 << 20)\nreturn len(x)", **settings)
    assert result.status == "failed"
    assert "went over their memory limit of 150 MB" in result.error, result.error


def test_the_runs_cgroup_is_removed_with_the_run():
    base, _ = _own_memory_cgroup()
    before = {name for name in os.listdir(base) if name.startswith("flomation-run-")}
    assert _run("return 1", script_run_memory_mb=200).status == "succeeded"
    assert {name for name in os.listdir(base) if name.startswith("flomation-run-")} == before
