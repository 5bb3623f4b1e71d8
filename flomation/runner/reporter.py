"""Sends step events and final results to the API in batches, retrying until they are acknowledged.

Batching is natural: a batch is sent as soon as nothing more is waiting, after at most LINGER_SECONDS for
the rest of a run that has not ended yet (a short flow reports its steps and result in one request);
whatever arrives while a request is in flight goes in the next one (few requests under load). A batch that fails on the network is
retried with backoff, in order; events are idempotent by sequence and a repeated result is acknowledged as
a duplicate, so a retry never stores anything twice. No Django.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flomation.lib.protocol import ExecutionReport
from flomation.runner.client import ApiClient, ApiRefused, ApiUnavailable
from flomation.runner.jobs import PROGRESS, Job

logger = logging.getLogger(__name__)

MAX_ITEMS_PER_BATCH = 1000
# How long a batch with no final result waits for more before it is sent.
LINGER_SECONDS = 0.005


@dataclass
class _Item:
    job: Job
    event: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    on_done: Callable[[Job, str], None] | None = None
    progress: dict[str, Any] | None = None


@dataclass
class _Entry:
    job: Job
    events: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    on_done: Callable[[Job, str], None] | None = None
    progress: dict[str, Any] | None = None


class Reporter:
    def __init__(self, client: ApiClient, stop: threading.Event, backoff_base: float = 0.5) -> None:
        self._client = client
        self._stop = stop
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._pending: list[_Item] = []
        self._backoff_base = backoff_base
        self._thread = threading.Thread(target=self._run, name="flomation-runner-report", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def event(self, job: Job, event: dict[str, Any]) -> None:
        """Queues a step event, or (an event holding only PROGRESS) the run's latest checkpoint: only the
        last checkpoint of a batch is sent."""
        if job.lost:
            return
        if PROGRESS in event:
            self._queue.put(_Item(job, progress=event[PROGRESS]))
            return
        self._queue.put(_Item(job, event={**event, "sequence": job.next_sequence()}))

    def result(self, job: Job, result: dict[str, Any], on_done: Callable[[Job, str], None]) -> None:
        """Queues the final result; `on_done(job, outcome)` runs once the API has answered for it."""
        self._queue.put(_Item(job, result=result, on_done=on_done))

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _take(self) -> bool:
        """Moves queued items into the pending batch; waits briefly only when there is nothing at all."""
        if not self._pending:
            try:
                self._pending.append(self._queue.get(timeout=0.2))
            except queue.Empty:
                return False
        deadline = time.monotonic() + LINGER_SECONDS
        while len(self._pending) < MAX_ITEMS_PER_BATCH:
            try:
                self._pending.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            # Nothing more yet: wait a moment for more of a run that has not ended, so a short flow's
            # events and result go in one request (one round trip fewer before its caller hears).
            wait = deadline - time.monotonic()
            if wait <= 0 or any(item.result is not None for item in self._pending):
                break
            try:
                self._pending.append(self._queue.get(timeout=wait))
            except queue.Empty:
                break
        return True

    def _run(self) -> None:
        delay = self._backoff_base
        while not (self._stop.is_set() and not self._pending and self._queue.empty()):
            if not self._take():
                continue
            entries = self._group(self._pending)
            if not entries:
                self._pending = []
                continue
            try:
                answer = self._client.call(
                    "POST", "report", {"executions": [self._payload(entry) for entry in entries]}
                )
            except ApiUnavailable as error:
                logger.warning(
                    "reporting %d executions failed (%s); retrying in %.1f s", len(entries), error, delay
                )
                if self._stop.wait(delay):
                    return  # shutting down without the API: leases expire and the work is retried
                delay = min(delay * 2, 30.0)
                continue
            except ApiRefused as error:
                if error.status in (400, 413):
                    logger.error("the API refused a report (%s); dropping it", error)
                    self._pending = []
                    for entry in entries:
                        self._finish(entry, "refused")
                    continue
                logger.warning("the API refused a report (%s); retrying in %.1f s", error, delay)
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, 60.0)
                continue
            delay = self._backoff_base
            self._pending = []
            outcomes = answer.get("executions") or {}
            for entry in entries:
                self._apply(entry, outcomes.get(entry.job.id) or {})

    @staticmethod
    def _group(items: list[_Item]) -> list[_Entry]:
        entries: dict[str, _Entry] = {}
        for item in items:
            if item.job.lost:
                if item.on_done:
                    item.on_done(item.job, "lost")
                continue
            entry = entries.setdefault(item.job.id, _Entry(item.job))
            if item.event is not None:
                entry.events.append(item.event)
            if item.progress is not None:
                entry.progress = item.progress
            if item.result is not None:
                entry.result, entry.on_done = item.result, item.on_done
        return list(entries.values())

    @staticmethod
    def _payload(entry: _Entry) -> dict[str, Any]:
        return ExecutionReport(
            entry.job.id, entry.job.lease_token, tuple(entry.events), entry.result, progress=entry.progress
        ).to_dict()

    def _apply(self, entry: _Entry, outcome: dict[str, Any]) -> None:
        state = str(outcome.get("outcome") or "lost")
        if state == "lost":
            if not entry.job.lost:
                logger.warning("execution %s: the lease was lost; stopping it", entry.job.id)
            entry.job.lost = True
            entry.job.cancel.set()
        elif outcome.get("cancel"):
            entry.job.cancel.set()
        if entry.result is not None:
            self._finish(entry, state)

    @staticmethod
    def _finish(entry: _Entry, state: str) -> None:
        if entry.on_done is not None:
            entry.on_done(entry.job, state)
