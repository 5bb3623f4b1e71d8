"""A claimed execution as the runner holds it, and the shapes of results sent back. No Django."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flomation.lib.protocol import ClaimedJob

EXIT_STATUSES = {0: "succeeded", 1: "failed", 2: "cancelled", 3: "suspended"}


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
    lost: bool = False
    _sequence: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_claim(cls, data: dict[str, Any]) -> Job:
        """The job the claim's answer describes (the protocol's ClaimedJob); raises PayloadError when an
        item is not one."""
        claimed = ClaimedJob.from_dict(data)
        return cls(
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


def failed_result(error: str) -> dict[str, Any]:
    return {"status": "failed", "outputs": {}, "node_results": {}, "checkpoint": None, "error": error}


def cancelled_result(error: str = "The execution was cancelled.") -> dict[str, Any]:
    return {"status": "cancelled", "outputs": {}, "node_results": {}, "checkpoint": None, "error": error}


def normalise_result(state: Any) -> dict[str, Any]:
    """The executor's RunResult.to_state() (or state.json) as the result the API stores."""
    if not isinstance(state, dict):
        return failed_result("The executor returned no result.")
    status = str(state.get("status") or "failed")
    if status == "success":
        status = "succeeded"
    if status not in ("succeeded", "failed", "cancelled", "suspended", "timed_out"):
        status = "failed"
    error = state.get("error")
    if isinstance(error, dict):
        error = error.get("message") or str(error)
    return {
        "status": status,
        "outputs": state.get("outputs") if isinstance(state.get("outputs"), dict) else {},
        "node_results": state.get("node_results") if isinstance(state.get("node_results"), dict) else {},
        "checkpoint": state.get("checkpoint"),
        "error": "" if error in (None, "") else str(error),
        **({"resume_at": state["resume_at"]} if state.get("resume_at") else {}),
    }
