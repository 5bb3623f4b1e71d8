"""A runner that loses the API keeps retrying with backoff and carries on when it returns.

Real processes: the API is `manage.py serve --role identity,api` on a port fixed for the test, so it can be
stopped (SIGTERM) and started again where the runner expects it; the runner is `python -m flomation.runner`
enrolled in a queue of its own. The database stays up throughout.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from flomation.core.models import Execution, ExecutionStep
from tests.runner import factories as f
from tests.runner.conftest import RunnerProcess, wait_until
from tests.support.servers import Server, free_port, serve

pytestmark = pytest.mark.django_db(transaction=True)

RETRY = re.compile(r"claiming failed \((?P<error>[^\n]*)\); retrying in (?P<delay>[\d.]+) s")


class Api:
    """`serve --role identity,api` on one port, started and stopped as often as the test likes."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.starts = 0
        self.servers: list[Server] = []
        self.stop_seconds: list[float] = []
        self._context: contextlib.AbstractContextManager[Server] | None = None

    def start(self) -> None:
        assert self._context is None
        self.starts += 1
        directory = self.tmp_path / f"api-{self.starts}"  # one log per start
        directory.mkdir()
        context = serve("identity,api", tmp_path=directory, port=self.port)
        self.servers.append(context.__enter__())
        self._context = context

    def stop(self) -> None:
        """SIGTERM, then waits for the process tree to exit."""
        if self._context is not None:
            context, self._context = self._context, None
            self.stop_seconds.append(self.servers[-1].stop())
            context.__exit__(None, None, None)

    @property
    def logs(self) -> str:
        return "\n".join(f"----- API start {n} -----\n{s.log()}" for n, s in enumerate(self.servers, 1))


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    api = Api(tmp_path)
    yield api
    api.stop()
    print(
        api.logs, f"\nstops of the API took {api.stop_seconds} s"
    )  # shown by pytest only when the test failed


def state_of(execution) -> str:
    return Execution.objects.values_list("state", flat=True).get(id=execution.id)


def queued_workflow(flow: dict) -> tuple[object, str]:
    """A workflow routed to a queue of its own, and that queue's registration code."""
    organisation = f.make_organisation()
    queue, code = f.make_queue(organisation)
    return f.make_workflow(organisation, flow, queue=queue), code


def assert_still_the_same_process(runner: RunnerProcess) -> None:
    """Alive, never restarted its agent and never registered again (no crash loop)."""
    assert runner.process.poll() is None, f"the runner exited with {runner.process.returncode}"
    assert "the runner agent failed" not in runner.log
    assert runner.log.count("registered as runner") == 1


def test_a_runner_that_loses_the_api_backs_off_and_claims_what_was_created_meanwhile(api, start_runner):
    workflow, code = queued_workflow(f.three_node_flow())
    api.start()
    runner = start_runner(code, name="outage", api=api.url)
    before = f.run(workflow, {"name": "before"})
    wait_until(lambda: state_of(before) == "succeeded", timeout=20)

    api.stop()
    mark = len(runner.log)
    during = f.run(workflow, {"name": "during"})  # straight through core's service: the database is up
    # It fails to reach the API, says so and waits longer each time: 0.5 s, 1 s, 2 s, ...
    wait_until(lambda: len(RETRY.findall(runner.log[mark:])) >= 3, timeout=15)
    outage_log = runner.log[mark:]
    retries = [match.groupdict() for match in RETRY.finditer(outage_log)]
    assert all("ConnectionError" in retry["error"] for retry in retries), retries
    delays = [float(retry["delay"]) for retry in retries]
    assert delays == sorted(delays) and delays[-1] >= 2 * delays[0], delays
    assert "heartbeat failed" in outage_log
    assert state_of(during) == "pending"
    assert_still_the_same_process(runner)

    api.start()  # same port
    wait_until(lambda: state_of(during) in ("succeeded", "failed"), timeout=30)
    finished = Execution.objects.select_related("runner").get(id=during.id)
    assert finished.state == "succeeded", finished.error
    assert finished.outputs == {"greeting": "hi DURING"}
    assert finished.runner.name == "outage" and finished.attempt == 1
    assert_still_the_same_process(runner)
    after = f.run(workflow, {"name": "after"})  # and it keeps working
    wait_until(lambda: state_of(after) == "succeeded", timeout=20)
    assert_still_the_same_process(runner)


def test_a_result_that_could_not_be_posted_while_the_api_was_down_is_delivered_when_it_returns(
    api, start_runner
):
    workflow, code = queued_workflow(f.sleep_flow())
    api.start()
    # One slot, busy while the API stops: no long poll is open to hold the API's shutdown back.
    runner = start_runner(code, name="patient", slots=1, api=api.url)
    # Long enough to outlast the API's stop (gunicorn drains its connections for up to about 3 s).
    execution = f.run(workflow, {"seconds": 5})
    wait_until(lambda: ExecutionStep.objects.filter(execution=execution, node_id="s1").exists(), timeout=20)
    workspace = runner.state_dir / "workspace" / f"{execution.id}-1"
    assert workspace.exists()

    api.stop()
    assert workspace.exists(), f"the flow ended before the API had stopped ({api.stop_seconds[-1]:.1f} s)"
    wait_until(lambda: not workspace.exists(), timeout=10)  # the flow has finished: its result waits
    finished_at = len(runner.log)
    # The result (with the last steps) cannot be posted: the reporter says so and keeps it for later.
    wait_until(lambda: "reporting 1 executions failed" in runner.log[finished_at:], timeout=10)
    assert state_of(execution) == "running"
    assert not ExecutionStep.objects.filter(execution=execution, node_id="o1").exists()
    assert_still_the_same_process(runner)

    api.start()
    wait_until(lambda: state_of(execution) in ("succeeded", "failed"), timeout=30)
    finished = Execution.objects.get(id=execution.id)
    assert finished.state == "succeeded", finished.error
    assert finished.outputs == {"slept": "yes"}
    assert finished.attempt == 1  # the same claim: its lease outlived the outage
    steps = ExecutionStep.objects.filter(execution=execution)
    assert steps.filter(node_id="o1").exists()
    assert steps.count() == 6  # each node started and finished, nothing lost or stored twice
    assert_still_the_same_process(runner)
