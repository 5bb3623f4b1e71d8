"""A claimed execution as the runner holds it, and the shapes of results sent back. No Django."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flomation.lib.protocol import ClaimedJob

logger = logging.getLogger(__name__)

EXIT_STATUSES = {0: "succeeded", 1: "failed", 2: "cancelled", 3: "suspended"}
# An executor event holding only this key carries the run's latest checkpoint, not a step.
PROGRESS = "__progress__"


def lease_margin(lease_seconds: float) -> float:
    """How long before its lease could run out a runner stops acting on an execution: a tenth of the
    lease, at most a second (the API stamps the lease after the request left, so the runner's own
    reckoning is already early; the margin covers clocks that run at slightly different rates)."""
    return min(1.0, lease_seconds / 10)


@dataclass
class Job:
    """One claimed execution. `cancel` is set when a user cancels it or its lease is lost."""

    id: str
    lease_token: str
    attempt: int
    flow: dict[str, Any]
    trigger_data: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    entry: str | None = None
    checkpoint: Any = None
    resume_data: Any = None
    # The egress policy (EgressPolicy.to_dict()) the executor applies: the platform's and organisation's for
    # work from the shared queue (sent with the claim), else the runner's own from its configuration.
    egress: dict[str, Any] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    # The lease as this runner reckons it, on the monotonic clock (CLOCK_MONOTONIC: shared by every
    # process of the machine and running on while a process is frozen): it ends `lease_seconds` after the
    # claim or heartbeat that granted it was sent. 0 lease seconds: the API gave none; no reckoning.
    lease_seconds: float = 0.0
    lease_deadline: float = math.inf
    _lost: bool = False
    _sequence: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def lost(self) -> bool:
        """True once the lease was taken over (the API said so) or could have run out without this runner
        having renewed it. Final: a late renewal does not bring a lost job back."""
        if not self._lost and time.monotonic() >= self.lease_deadline:
            self._lost = True
        return self._lost

    @lost.setter
    def lost(self, value: bool) -> None:
        self._lost = self._lost or value

    def lease_granted(self, sent_at: float, lease_seconds: float | None = None) -> None:
        """The API granted (or extended) the lease in answer to a request sent at `sent_at`."""
        if lease_seconds:
            self.lease_seconds = float(lease_seconds)
        if self.lease_seconds > 0 and not self.lost:
            self.lease_deadline = sent_at + self.lease_seconds - lease_margin(self.lease_seconds)

    def lease_left(self) -> float:
        """Seconds until this runner must stop acting on the execution (inf without a lease length)."""
        return self.lease_deadline - time.monotonic()

    @classmethod
    def from_claim(cls, data: dict[str, Any], sent_at: float | None = None) -> Job:
        """The job the claim's answer describes (the protocol's ClaimedJob); raises PayloadError when an
        item is not one. `sent_at`: when the claim was sent (monotonic), where the lease starts."""
        claimed = ClaimedJob.from_dict(data)
        job = cls(
            id=claimed.id,
            lease_token=claimed.lease_token,
            attempt=claimed.attempt,
            flow=claimed.flow,
            trigger_data=claimed.trigger_data,
            context=claimed.context,
            entry=claimed.entry,
            checkpoint=claimed.checkpoint,
            resume_data=claimed.resume_data,
            egress=claimed.egress,
        )
        if claimed.lease_seconds > 0:
            job.lease_granted(time.monotonic() if sent_at is None else sent_at, claimed.lease_seconds)
        return job

    @property
    def resume_checkpoint(self) -> Any:
        """The checkpoint to resume from, carrying the data the resumption brought (an approval, ...)."""
        if self.checkpoint is None:
            return None
        if self.resume_data is not None and isinstance(self.checkpoint, dict):
            return {**self.checkpoint, "resume_data": self.resume_data}
        return self.checkpoint

    def next_sequence(self) -> int:
        with self._lock:
            value = self._sequence
            self._sequence += 1
            return value


def fence_expired(jobs: list[Job]) -> None:
    """Stops every job whose lease may have run out (its executor also checks, between nodes)."""
    for job in jobs:
        if job.lost and not job.cancel.is_set():
            logger.warning("execution %s: its lease could not be renewed in time; stopping it", job.id)
            job.cancel.set()


def heartbeat_interval(jobs: list[Job], busy: float, idle: float) -> float:
    """Every `busy` seconds while anything runs, else every `idle` seconds; while something runs, never
    later than half the shortest lease left."""
    if not jobs:
        return idle
    return max(0.05, min(busy, min(job.lease_left() for job in jobs) / 2))


def failed_result(error: str) -> dict[str, Any]:
    return {"status": "failed", "outputs": {}, "node_results": {}, "checkpoint": None, "error": error}


def cancelled_result(error: str = "The execution was cancelled.") -> dict[str, Any]:
    return {"status": "cancelled", "outputs": {}, "node_results": {}, "checkpoint": None, "error": error}
