"""The agent's scheduling, one piece at a time: claiming ahead of its slots, and a claimed execution that
was cancelled or lost while it waited for a slot."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from flomation.runner.agent import Agent
from flomation.runner.config import RunnerConfig
from flomation.runner.jobs import Job


class RecordingReporter:
    def __init__(self) -> None:
        self.results: list[tuple[str, dict[str, Any]]] = []

    def result(self, job: Job, result: dict[str, Any], on_done: Any) -> None:
        self.results.append((job.id, result))
        on_done(job, "ok")

    def join(self, timeout: float) -> None:
        pass


class RecordingExecutor:
    def __init__(self) -> None:
        self.ran: list[str] = []

    def run(self, job: Job, workspace: Path, emit: Any) -> dict[str, Any]:
        self.ran.append(job.id)
        return {"status": "succeeded", "outputs": {}, "node_results": {}, "checkpoint": None, "error": ""}

    def close(self) -> None:
        pass


def agent(tmp_path: Path, **config: Any) -> Agent:
    made = Agent(RunnerConfig(url="http://api.invalid", state_directory=str(tmp_path), **config))
    made.reporter = RecordingReporter()  # type: ignore[assignment]
    return made


def job(name: str) -> Job:
    return Job(id=name, lease_token="t", attempt=1, flow={})


def test_it_claims_for_its_idle_slots_plus_the_executions_it_may_keep_waiting(tmp_path):
    runner = agent(tmp_path, max_concurrent_executors=2, prefetch=3)
    runner._pace(0.01)  # short executions: its slots finish far more than 3 in a second
    asked: list[int] = []

    def claim(free: int) -> dict[str, Any]:
        asked.append(free)
        if len(asked) == 1:
            return {"executions": [{"id": "a", "lease_token": "t", "flow": {}}]}
        runner.stop.set()
        return {}

    runner._claim = claim  # type: ignore[method-assign]
    runner._idle_count = 2
    runner._claim_loop()
    assert asked == [5, 4]  # 2 idle + 3 ahead; then one already waits for a slot
    assert runner._jobs.get_nowait().id == "a"


def claims_with_every_slot_busy(runner: Agent) -> list[int]:
    asked: list[int] = []
    runner._claim = lambda free: (asked.append(free), runner.stop.set(), {})[-1]  # type: ignore[method-assign]
    with runner._slot_changed:
        runner._slot_changed.notify_all()
    runner._claim_loop()
    return asked


def test_with_every_slot_busy_it_claims_what_its_slots_finish_in_about_a_second(tmp_path):
    runner = agent(tmp_path, max_concurrent_executors=2)
    runner._pace(0.4)
    assert claims_with_every_slot_busy(runner) == [5]  # 2 slots x 1 s / 0.4 s, under the cap of 32


def test_long_executions_leave_nothing_waiting_that_another_runner_could_start(tmp_path):
    runner = agent(tmp_path, max_concurrent_executors=2)
    for seconds in (0.01, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0):
        runner._pace(seconds)
    assert runner._ahead() == 0
    fresh = agent(tmp_path)
    assert fresh._ahead() == 0  # nothing is claimed ahead before the pace is known


def test_an_execution_cancelled_while_it_waited_is_reported_cancelled_without_running(tmp_path):
    runner = agent(tmp_path)
    executor = RecordingExecutor()
    cancelled, lost, fine = job("cancelled"), job("lost"), job("fine")
    cancelled.cancel.set()
    lost.lost = True
    for each in (cancelled, lost, fine):
        runner._active[each.id] = each
        runner._execute(executor, each)
    assert executor.ran == ["fine"]
    reported = dict(runner.reporter.results)  # type: ignore[union-attr]
    assert set(reported) == {"cancelled", "fine"}
    assert reported["cancelled"]["status"] == "cancelled"
    assert runner._active == {}


def test_the_executions_waiting_ahead_are_topped_up_in_batches(tmp_path):
    runner = agent(tmp_path, max_concurrent_executors=1, prefetch=8)
    runner._pace(0.001)
    for name in "abcdef":
        runner._jobs.put(job(name))
    assert runner._to_claim() == 0  # 6 of 8 still wait: not worth a claim yet
    runner._jobs.get_nowait()
    runner._jobs.get_nowait()
    assert runner._to_claim() == 4
    runner._idle_count = 5  # more idle slots than waiting executions: claim at once, whatever the batch
    for _ in range(3):
        runner._jobs.get_nowait()
    assert runner._to_claim() == 12


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def call(self, method: str, path: str, payload: Any = None, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((path, payload))
        return {}


def test_stopping_gives_back_what_waits_and_cancels_what_runs(tmp_path):
    runner = agent(tmp_path)
    client = RecordingClient()
    runner.client = client  # type: ignore[assignment]
    running, first, second = job("running"), job("first"), job("second")
    for each in (running, first, second):
        runner._active[each.id] = each
    runner._jobs.put(first)
    runner._jobs.put(second)
    runner._shutdown()
    assert running.cancel.is_set() and not first.cancel.is_set() and not second.cancel.is_set()
    [(path, payload)] = [call for call in client.calls if call[0] == "report"]
    assert payload == {
        "executions": [
            {"id": "first", "lease_token": "t", "events": [], "release": True},
            {"id": "second", "lease_token": "t", "events": [], "release": True},
        ]
    }
    assert set(runner._active) == {"running"}


class BlockingExecutor(RecordingExecutor):
    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def run(self, job: Job, workspace: Path, emit: Any) -> dict[str, Any]:
        self.started.set()
        self.release.wait(5)
        return super().run(job, workspace, emit)


def test_a_slot_that_takes_an_execution_is_never_counted_idle_by_the_claim_loop(tmp_path):
    """Taking an execution and leaving the idle count are one step: otherwise the claim loop could see a
    busy slot as idle for a moment and claim an execution it cannot start (held back from other runners)."""
    runner = agent(tmp_path, max_concurrent_executors=1, prefetch=0)  # a busy slot: nothing to claim
    executor = BlockingExecutor()
    slot = threading.Thread(target=runner._slot, args=(executor,), daemon=True)
    slot.start()
    counted_idle = 0
    for number in range(60):
        while runner._idle_count != 1:
            time.sleep(0.0005)
        executor.started.clear()
        executor.release.clear()
        runner._hand_over([job(f"j{number}")])
        while not executor.started.is_set():  # the claim loop's view from hand-over to the slot running it
            with runner._slot_changed:
                counted_idle += runner._to_claim() > 0
        executor.release.set()
    runner.stop.set()
    runner._hand_over([None])
    slot.join(2)
    assert counted_idle == 0 and len(executor.ran) == 60
