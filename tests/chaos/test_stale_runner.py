"""A runner frozen past its lease (SIGSTOP of the runner and its executor, as a paused VM or a stalled host
would be) and resumed after another runner has finished its execution: it starts no further node, causes
no side effect, and changes nothing the API stored. Real runner processes, the live API, real PostgreSQL,
and a counting HTTP service on loopback standing for the outside world."""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

import pytest

from flomation.core.models import Execution, ExecutionStep, Organisation, Runner
from flomation.core.protocol.loops import LeaseReclaimLoop
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f
from tests.runner.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.chaos]

LEASE_SECONDS = 2


def side_effect(node_id: str, url: str) -> dict[str, Any]:
    who = "attempt=${flow.attempt}&runner=${flow.runner_id}"
    return f.node(node_id, "web/request", 2, [{"name": "url", "type": "string", "value": f"{url}?{who}"}])


def flow(url: str) -> dict[str, Any]:
    """A side effect, a sleep, another side effect."""
    return f.chain(
        f.node("t1", "trigger/manual", 1),
        side_effect("before", url + "/before"),
        f.node("s1", "common/sleep", 2, [{"name": "duration", "type": "number", "value": "${t1.seconds}"}]),
        side_effect("after", url + "/after"),
        f.node("o1", "output/set", 3, [{"name": "name", "value": "done"}, {"name": "value", "value": "yes"}]),
    )


def stored(execution: Execution) -> tuple[Any, ...]:
    row = Execution.objects.values_list("state", "attempt", "runner_id", "outputs", "finished_at").get(
        id=execution.id
    )
    steps = list(
        ExecutionStep.objects.filter(execution_id=execution.id)
        .order_by("attempt", "sequence")
        .values_list("attempt", "sequence", "node_id", "status")
    )
    return row, steps


@pytest.mark.parametrize("isolated", [False, True], ids=["warm", "subprocess"])
def test_a_runner_frozen_past_its_lease_acts_no_more_once_resumed(
    start_runner, live_api, outside_world, settings, isolated
):
    settings.RUNNER_LEASE_SECONDS = LEASE_SECONDS
    organisation = f.make_organisation()
    Organisation.objects.filter(id=organisation.id).update(egress_allow=["127.0.0.0/8"])
    code = queue_registration_code(queue=queue_shared())
    env = {"FLOMATION_RUNNER_EXECUTABLE_NAME": f"{sys.executable} -m flomation.executor"} if isolated else {}
    frozen = start_runner(code, name="frozen", slots=1, **env)
    execution = f.run(f.make_workflow(organisation, flow(outside_world.url)), {"seconds": 4})
    # Frozen mid-sleep: "before" finished and its checkpoint is stored (the sleep's step came after it).
    wait_until(
        lambda: ExecutionStep.objects.filter(execution=execution, node_id="s1", status="running").exists(),
        timeout=30,
    )
    frozen_id = str(Runner.objects.get(name="frozen").id)

    os.killpg(frozen.process.pid, signal.SIGSTOP)  # the runner and its executor, mid-sleep
    frozen_at = time.monotonic()
    try:
        reclaim = LeaseReclaimLoop()

        def reclaimed() -> bool:
            reclaim.handle_one()
            return Execution.objects.filter(id=execution.id, state="pending").exists()

        wait_until(reclaimed, timeout=LEASE_SECONDS * 5, interval=0.1)
        lost_at = time.monotonic()
        start_runner(code, name="healthy", slots=1)
        wait_until(lambda: Execution.objects.filter(id=execution.id, state="succeeded").exists(), timeout=40)
        before = stored(execution)
        frozen_for = time.monotonic() - frozen_at
    finally:
        os.killpg(frozen.process.pid, signal.SIGCONT)
    resumed_at = time.monotonic()
    # The frozen executor's sleep is over by now: it would start "after" at once, and its runner would
    # heartbeat and report. Give it time to.
    time.sleep(4)
    after = stored(execution)

    stale = [(at, path) for at, path in outside_world.hits if f"runner={frozen_id}" in path]
    stale_after_loss = [path for at, path in stale if at > lost_at]
    healthy = [path for _, path in outside_world.hits if f"runner={frozen_id}" not in path]
    print(
        f"\n[chaos] {'subprocess' if isolated else 'warm'} runner frozen {frozen_for:.1f} s past a {LEASE_SECONDS} s lease: side effects after "
        f"the lease was lost {len(stale_after_loss)}, stored changes after resuming "
        f"{int(before != after)}, completions {Execution.objects.filter(id=execution.id).count()}"
    )
    assert frozen.process.poll() is None, frozen.log  # alive, and carries on with other work
    assert [path.split("?")[0] for _, path in stale] == ["/before"]  # from before the freeze only
    assert stale_after_loss == []
    # The healthy runner went on after "before" (it finished in the frozen attempt): it did not run again.
    assert sorted(path.split("?")[0] for path in healthy) == ["/after"]
    assert before == after
    state, attempt, runner_id, outputs, _ = after[0]
    assert (state, attempt, str(runner_id), outputs) == (
        "succeeded",
        2,
        str(Runner.objects.get(name="healthy").id),
        {"done": "yes"},
    )
    assert "its result is not reported (its lease was taken over or may have run out)" in frozen.log
    assert resumed_at - frozen_at > LEASE_SECONDS
