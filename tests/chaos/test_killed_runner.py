"""A runner killed with SIGKILL (with its executors) at three moments: just after it claimed (before its first
heartbeat), after the flow's first side effect, and in the middle of a sleep. Another runner finishes the
execution once: nothing is lost, nothing completes twice, and the dead runner's attempt leaves no side
effect after it died. Real runner processes, the live API, real PostgreSQL, a counting HTTP service."""

from __future__ import annotations

import time

import pytest

from flomation.core.models import Execution, ExecutionStep, Organisation, Runner
from flomation.core.protocol.loops import LeaseReclaimLoop
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.chaos.test_stale_runner import LEASE_SECONDS, flow
from tests.runner import factories as f
from tests.runner.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.chaos]


def _claimed(execution, hits) -> bool:
    return Execution.objects.filter(id=execution.id, state="running").exists()


def _after_side_effect(execution, hits) -> bool:
    return any("/before" in path for _, path in hits)


def _mid_sleep(execution, hits) -> bool:
    firsts = [at for at, path in hits if "/before" in path]
    sleeping = ExecutionStep.objects.filter(execution=execution, node_id="s1", status="running").exists()
    return bool(firsts) and time.monotonic() - firsts[0] > 1.0 and sleeping


def went_on_from_progress(execution) -> tuple[set[str], set[str]]:
    """(the nodes the last attempt ran again, the nodes it ran again without marking the step a retry)."""
    steps = list(ExecutionStep.objects.filter(execution=execution).values_list("attempt", "node_id", "retry"))
    last = max(attempt for attempt, _, _ in steps)
    earlier = {node for attempt, node, _ in steps if attempt < last}
    again = {node for attempt, node, _ in steps if attempt == last and node in earlier}
    unmarked = {node for attempt, node, retry in steps if attempt == last and node in earlier and not retry}
    return again, unmarked


@pytest.mark.parametrize(
    "moment", [_claimed, _after_side_effect, _mid_sleep], ids=["claimed", "after-side-effect", "mid-sleep"]
)
def test_a_killed_runners_execution_is_finished_once_by_another(
    start_runner,
    live_api,
    outside_world,
    settings,
    moment,
):
    settings.RUNNER_LEASE_SECONDS = LEASE_SECONDS
    organisation = f.make_organisation()
    Organisation.objects.filter(id=organisation.id).update(egress_allow=["127.0.0.0/8"])
    code = queue_registration_code(queue=queue_shared())
    doomed = start_runner(code, name="doomed", slots=1)
    execution = f.run(f.make_workflow(organisation, flow(outside_world.url)), {"seconds": 3})
    wait_until(lambda: moment(execution, outside_world.hits), timeout=30, interval=0.02)
    doomed.kill_hard()
    killed_at = time.monotonic()
    doomed_id = str(Runner.objects.get(name="doomed").id)
    start_runner(code, name="survivor", slots=1)
    reclaim = LeaseReclaimLoop()

    def finished() -> bool:
        reclaim.handle_one()
        return Execution.objects.filter(id=execution.id, state__in=("succeeded", "failed")).exists()

    wait_until(finished, timeout=60, interval=0.1)
    recovered_in = time.monotonic() - killed_at
    done = Execution.objects.get(id=execution.id)
    completions = ExecutionStep.objects.filter(execution=execution, node_id="o1", status="success").count()
    dead_after_kill = [
        path for at, path in outside_world.hits if f"runner={doomed_id}" in path and at > killed_at
    ]
    survivor_id = str(Runner.objects.get(name="survivor").id)
    survivor_hits = sorted(
        path.split("?")[0] for _, path in outside_world.hits if f"runner={survivor_id}" in path
    )
    again, unmarked = went_on_from_progress(execution)
    print(
        f"\n[chaos] runner killed ({moment.__name__.strip('_')}): finished {done.state} on attempt {done.attempt} "
        f"in {recovered_in:.1f} s, completions {completions}, lost {int(done.state != 'succeeded')}, "
        f"side effects of the dead runner after it died {len(dead_after_kill)}, "
        f"nodes run again {sorted(again)} (marked retry: {not unmarked})"
    )
    assert (done.state, done.outputs, str(done.runner_id)) == ("succeeded", {"done": "yes"}, survivor_id)
    assert done.attempt in (
        2,
        3,
    )  # a dead runner's open long poll may take it once more (see test_end_to_end)
    assert completions == 1
    assert dead_after_kill == []
    assert unmarked == set()  # a node that runs again is marked a retry
    if moment is _mid_sleep:
        # "before" had finished and its checkpoint was stored (the sleep's step came after it): the new
        # attempt goes on from there, running only the sleep that was in flight again.
        assert survivor_hits == ["/after"]
        assert again == {"s1"}
    else:
        # Killed around "before": it ran again only if its checkpoint had not reached the API.
        assert survivor_hits in (["/after", "/before"], ["/after"])
        assert again <= {"t1", "before", "s1"}
