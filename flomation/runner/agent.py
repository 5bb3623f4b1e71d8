"""The runner agent: registers, long-polls for work, runs it in its slots, heartbeats and reports. No Django.

Threads: the caller's thread claims (a long poll of up to 25 s) while a slot is free or while fewer
executions wait for one than the slots finish in about AHEAD_SECONDS at the recent pace (at most the
configured `claim_ahead`): a slot that finishes starts the next execution at once, and long executions never
leave claimed work waiting that another runner could start. One thread per slot runs executions through its executor (warm process or subprocess); the reporter
sends events and results; the heartbeat extends leases and learns of cancellations (every HEARTBEAT_BUSY
seconds while anything runs). When the API is gone every part retries with backoff and carries on when it
returns. An execution whose lease may have run out (see Job.lost) is stopped and reported no more.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from flomation.lib.protocol import ClaimRequest, ExecutionReport, Heartbeat, Lease, Report
from flomation.runner import registration
from flomation.runner.client import ApiClient, ApiRefused, ApiUnavailable
from flomation.runner.config import RunnerConfig
from flomation.runner.isolated import SubprocessExecutor
from flomation.runner.jobs import Job, cancelled_result, failed_result, fence_expired, heartbeat_interval
from flomation.runner.metrics import runner_metrics_start
from flomation.runner.reporter import Reporter
from flomation.runner.secrets import ApiSecretProvider
from flomation.runner.warm import WarmExecutor, warm_api

logger = logging.getLogger(__name__)

CLAIM_WAIT_SECONDS = 25
HEARTBEAT_BUSY = 0.5
# Claimed executions wait for a slot about this long at most (on average); AVERAGE_WEIGHT smooths the pace.
AHEAD_SECONDS = 1.0
AVERAGE_WEIGHT = 0.2


class Executor(Protocol):
    def run(self, job: Job, workspace: Path, emit: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


class Agent:
    def __init__(self, config: RunnerConfig, stop: threading.Event | None = None) -> None:
        self.config = config
        # Our own flag, set by the caller's `stop` or by our shutdown: a failed agent can be replaced.
        self.stop = threading.Event()
        if stop is not None:
            threading.Thread(target=lambda: (stop.wait(), self.stop.set()), daemon=True).start()
        self.client = ApiClient(config.api_url, pool_size=4, tls=config.tls)
        self.slots = config.max_concurrent_executors
        self.claim_ahead = config.claim_ahead
        self._average_seconds: float | None = None  # how long an execution takes lately
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._idle_count = 0
        self._count_result: Callable[[str], None] | None = None
        self._slot_changed = threading.Condition()
        self._active: dict[str, Job] = {}
        self._active_lock = threading.Lock()
        self._wake_heartbeat = threading.Event()
        self._heartbeat_idle = False
        self._threads: list[threading.Thread] = []
        self._executors: list[Executor] = []
        self._set_aside: list[Job] = []  # taken by a slot as the agent stopped: given back, not run
        self.reporter: Reporter | None = None
        self._own_egress = config.egress_policy.to_dict()

    # --- lifecycle -------------------------------------------------------------------------------

    def run(self) -> None:
        """Runs until `stop` is set. Registration problems are retried with backoff, never fatal."""
        if not registration.ensure_registered(self.config, self.client, self.stop):
            return
        self.config.workspace_root.mkdir(parents=True, exist_ok=True)
        self.reporter = Reporter(self.client, self.stop)
        self.reporter.start()
        for index in range(self.slots):
            executor = self._make_executor()
            self._executors.append(executor)
            thread = threading.Thread(
                target=self._slot, args=(executor,), name=f"flomation-slot-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        heartbeat = threading.Thread(
            target=self._heartbeat_loop, name="flomation-runner-heartbeat", daemon=True
        )
        heartbeat.start()
        self._count_result = runner_metrics_start(
            slots=self.slots, slots_in_use=lambda: self.slots - self._idle_count, waiting=self._jobs.qsize
        )
        logger.info(
            "runner %s: %d slot(s), %s executor, API %s",
            self.client.runner_id,
            self.slots,
            "subprocess" if self.config.executor_command else "warm",
            self.config.api_url,
        )
        try:
            self._claim_loop()
        finally:
            self._shutdown()

    def _make_executor(self) -> Executor:
        if self.config.executor_command:
            return SubprocessExecutor(self.config.executor_command, secrets_for=self._secrets_for)
        return WarmExecutor(warm_api(self.config, self.client.runner_id))

    def _secrets_for(self, job: Job) -> ApiSecretProvider:
        return ApiSecretProvider(self.client, job.id, job.lease_token)

    def _shutdown(self) -> None:
        self.stop.set()
        self._wake_heartbeat.set()
        try:  # ends the long poll still open on the API, so it cannot take work for a runner that left
            self.client.call("POST", "claim", ClaimRequest(free=0, total=self.slots).to_dict(), timeout=2)
        except Exception as error:
            logger.info("could not say goodbye to the API: %s", error)
        waiting = self._drain()
        waiting_ids = {job.id for job in waiting}
        with self._active_lock:
            for job in self._active.values():
                if job.id not in waiting_ids:
                    job.cancel.set()
        self._hand_over([None] * len(self._threads))
        for thread in self._threads:
            thread.join(3)
        self._release([*waiting, *self._set_aside, *self._drain()])
        for executor in self._executors:
            executor.close()
        if self.reporter is not None:
            self.reporter.join(2)

    def _drain(self) -> list[Job]:
        """Takes every execution still waiting for a slot off the queue."""
        jobs: list[Job] = []
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return jobs
            if job is not None:
                jobs.append(job)

    def _release(self, jobs: list[Job]) -> None:
        """Gives back executions claimed ahead that never started, so another runner can start them now
        (rather than once their leases expire) without using up an attempt."""
        if not jobs:
            return
        report = Report(tuple(ExecutionReport(job.id, job.lease_token, release=True) for job in jobs))
        try:
            self.client.call("POST", "report", report.to_dict(), timeout=2)
        except Exception as error:
            logger.warning(
                "could not give back %d waiting execution(s) (%s): they run again once their leases expire",
                len(jobs),
                error,
            )
        with self._active_lock:
            for job in jobs:
                self._active.pop(job.id, None)

    # --- claiming --------------------------------------------------------------------------------

    def _claim_loop(self) -> None:
        delay = self.config.checkin_timeout
        while not self.stop.is_set():
            with self._slot_changed:
                free = self._to_claim()
                if free <= 0:
                    self._slot_changed.wait(0.5)
                    continue
            sent_at = time.monotonic()  # the leases of what the claim brings start no earlier
            try:
                answer = self._claim(free)
            except ApiUnavailable as error:
                logger.warning("claiming failed (%s); retrying in %.1f s", error, delay)
                self.stop.wait(delay)
                delay = min(delay * 2, 60.0)
                continue
            except ApiRefused as error:
                delay = self._refused(error, delay)
                continue
            delay = self.config.checkin_timeout
            # A long poll may have waited before claiming: the leases start no earlier than that.
            waited = min(max(0.0, float(answer.get("waited") or 0)), time.monotonic() - sent_at)
            jobs = [Job.from_claim(data, sent_at + waited) for data in answer.get("executions") or []]
            for job in jobs:
                if job.egress is None:  # not from the shared queue: this runner's own policy
                    job.egress = self._own_egress
            with self._active_lock:
                self._active.update((job.id, job) for job in jobs)
            self._hand_over(list(jobs))
            if answer.get("executions") and self._heartbeat_idle:
                self._wake_heartbeat.set()
            retry_after = answer.get("retry_after")
            if not jobs and isinstance(retry_after, int | float) and retry_after > 0:
                self.stop.wait(min(float(retry_after), 30.0))  # the server could not hold the poll open

    def _to_claim(self) -> int:
        """How many executions to claim now: 0 to wait. A slot about to go idle is served at once; the
        executions waiting ahead are topped up only once half of them have started, so that one claim
        brings several under load rather than one each."""
        waiting = self._jobs.qsize()
        ahead = self._ahead()
        free = self._idle_count + ahead - waiting
        if waiting >= self._idle_count and free < max(1, ahead // 2):
            return 0
        return free

    def _ahead(self) -> int:
        """How many claimed executions may wait for a slot: none until the pace is known."""
        if self._average_seconds is None:
            return 0
        finishing = self.slots * AHEAD_SECONDS / max(self._average_seconds, 0.001)
        return min(self.claim_ahead, int(finishing))

    def _claim(self, free: int) -> dict[str, Any]:
        """The long poll runs in a helper thread so that `stop` ends the loop at once."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def call() -> None:
            try:
                box["answer"] = self.client.call(
                    "POST",
                    "claim",
                    ClaimRequest(free=free, total=self.slots, wait=CLAIM_WAIT_SECONDS).to_dict(),
                    timeout=CLAIM_WAIT_SECONDS + 15,
                )
            except Exception as error:
                box["error"] = error
            done.set()

        threading.Thread(target=call, name="flomation-runner-claim", daemon=True).start()
        while not done.wait(0.25):
            if self.stop.is_set():
                return {}
        if "error" in box:
            raise box["error"]
        return box["answer"]

    def _refused(self, error: ApiRefused, delay: float) -> float:
        if error.status == 426:  # this runner is older than the server's protocol: retrying cannot help
            logger.error("the API refused this runner: %s", error.message)
            self.stop.set()
            return delay
        if error.status in (401, 404) and error.code == "unknown_runner":
            logger.error("the API does not know this runner any more; registering again")
            registration.forget(self.config)
            if not registration.ensure_registered(self.config, self.client, self.stop):
                self.stop.set()
            return self.config.checkin_timeout
        if error.status == 403:
            logger.error(
                "the API refused this runner: %s (retrying in %.0f s)", error.message, max(delay, 30)
            )
            self.stop.wait(max(delay, 30))
            return min(max(delay, 30) * 2, 300.0)
        logger.error("the API refused the claim: %s (retrying in %.1f s)", error, delay)
        self.stop.wait(delay)
        return min(delay * 2, 60.0)

    # --- running ---------------------------------------------------------------------------------

    def _slot(self, executor: Executor) -> None:
        while not self.stop.is_set():
            job = self._next_job()
            if job is None:
                return
            if self.stop.is_set():  # stopping: given back, not started
                self._set_aside.append(job)
                return
            self._execute(executor, job)

    def _next_job(self) -> Job | None:
        """Waits idle for the next execution (None: stop). Taking it and leaving the idle count happen
        together under `_slot_changed`, so the claim loop never counts a slot that has just taken an
        execution as idle (it would claim one more than it can start, held back from other runners)."""
        with self._slot_changed:
            self._idle_count += 1
            self._slot_changed.notify_all()
            try:
                while True:
                    try:
                        return self._jobs.get_nowait()
                    except queue.Empty:
                        self._slot_changed.wait(0.5)
            finally:
                self._idle_count -= 1

    def _hand_over(self, jobs: list[Job | None]) -> None:
        """Queues executions (or None: a slot's signal to stop) for the slots and wakes them."""
        with self._slot_changed:
            for job in jobs:
                self._jobs.put(job)
            self._slot_changed.notify_all()

    def _execute(self, executor: Executor, job: Job) -> None:
        assert self.reporter is not None
        reporter = self.reporter
        if job.lost:  # the lease went while it waited for this slot
            self._done(job, "lost")
            return
        if job.cancel.is_set():  # cancelled while it waited: nothing to run
            reporter.result(job, cancelled_result(), self._done)
            return
        workspace = self.config.workspace_root / f"{job.id}-{job.attempt}"
        started = time.monotonic()
        try:
            workspace.mkdir(parents=True, exist_ok=True)
            result = executor.run(job, workspace, lambda event: reporter.event(job, event))
        except Exception as error:
            logger.exception("execution %s: the runner failed to run it", job.id)
            result = failed_result(f"The runner failed to run the execution: {error}")
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
            self._pace(time.monotonic() - started)
        if job.lost:
            self._done(job, "lost")
            return
        if self._count_result is not None:
            self._count_result(str(result.get("status") or "failed"))
        reporter.result(job, result, self._done)

    def _pace(self, seconds: float) -> None:
        previous = self._average_seconds
        self._average_seconds = (
            seconds if previous is None else previous + AVERAGE_WEIGHT * (seconds - previous)
        )

    def _done(self, job: Job, outcome: str) -> None:
        with self._active_lock:
            self._active.pop(job.id, None)
        if outcome == "lost":
            logger.warning(
                "execution %s: its result is not reported (its lease was taken over or may have run out)",
                job.id,
            )

    # --- heartbeat -------------------------------------------------------------------------------

    def _active_jobs(self) -> list[Job]:
        with self._active_lock:
            return list(self._active.values())

    def _heartbeat_loop(self) -> None:
        delay = self.config.checkin_timeout
        while not self.stop.is_set():
            # A job whose lease may have run out is not renewed: this runner has stopped acting on it and
            # the API gives it to another runner once the lease has expired there too.
            jobs = [job for job in self._active_jobs() if not job.lost]
            sent_at = time.monotonic()
            try:
                answer = self.client.call(
                    "POST",
                    "heartbeat",
                    Heartbeat(tuple(Lease(j.id, j.lease_token) for j in jobs), busy=len(jobs)).to_dict(),
                )
            except (ApiUnavailable, ApiRefused) as error:
                logger.warning("heartbeat failed (%s); retrying in %.1f s", error, delay)
                fence_expired(self._active_jobs())
                self.stop.wait(min(delay, heartbeat_interval(jobs, HEARTBEAT_BUSY, delay)))
                delay = min(delay * 2, 30.0)
                continue
            delay = self.config.checkin_timeout
            states = answer.get("executions") or {}
            lease_seconds = answer.get("lease_seconds")
            for job in jobs:
                state = states.get(job.id) or {}
                if state.get("lost"):
                    job.lost = True
                    job.cancel.set()
                    continue
                if isinstance(lease_seconds, int | float) and not isinstance(lease_seconds, bool):
                    job.lease_granted(sent_at, lease_seconds)
                if state.get("cancel"):
                    job.cancel.set()
            fence_expired(self._active_jobs())
            self._heartbeat_idle = not jobs
            self._wake_heartbeat.wait(heartbeat_interval(jobs, HEARTBEAT_BUSY, self.config.checkin_timeout))
            self._wake_heartbeat.clear()
            self._heartbeat_idle = False


def run_agent(config: RunnerConfig, stop: threading.Event) -> None:
    """Runs an agent until `stop` is set; an unexpected error restarts it after a pause."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            Agent(config, stop).run()
        except Exception:
            logger.exception("the runner agent failed; restarting")
            stop.wait(max(0.0, 5.0 - (time.monotonic() - started)))
