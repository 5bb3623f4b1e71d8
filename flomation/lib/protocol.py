"""The runner protocol's payloads, typed, for both sides: the API builds and reads them, the runner reads
and builds them. No Django (the runner imports this).

Versions: every runner request, registration included, carries `X-Flomation-Protocol: <version>`
(unsigned: it only decides which refusal an old runner gets). A server refuses a runner older than `MIN_VERSION` with 426 and the code
`protocol_too_old`, saying which versions it speaks, instead of misreading its payloads.

* 1: payloads matched by hand on both sides (no version header; refused now).
* 2: these dataclasses; the claimed job may carry an `egress` policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERSION = 2
MIN_VERSION = 2
HEADER = "X-Flomation-Protocol"


class PayloadError(ValueError):
    """A payload that does not have the protocol's shape; the message says what is wrong."""


def version_of(raw: str | None) -> int:
    """The protocol version a request states (1 when it states none: runners before versioning)."""
    if raw is None or not raw.strip():
        return 1
    try:
        return int(raw.strip())
    except ValueError:
        raise PayloadError(f"{HEADER} must be a whole number, not {raw[:20]!r}.") from None


def too_old_message(version: int) -> str:
    return (
        f"This runner speaks version {version} of the runner protocol; this server needs version "
        f"{MIN_VERSION} or newer (it speaks up to {VERSION}). Upgrade the runner and start it again."
    )


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PayloadError(f"{what} must be a JSON object.")
    return data


def _count(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"'{name}' must be a number.")
    return max(low, min(int(value), high))


@dataclass(frozen=True)
class ClaimRequest:
    """POST .../claim: how many executions the runner can take now (`free`), its slots (`total`), and how
    long the server may hold the poll open (`wait`, seconds)."""

    free: int = 1
    total: int = 1
    wait: int = 0

    @classmethod
    def from_dict(cls, data: Any) -> ClaimRequest:
        data = _object(data, "The claim")
        free = _count(data, "free", 1, 0, 100)
        return cls(
            free=free, total=_count(data, "total", free or 1, 1, 1000), wait=_count(data, "wait", 0, 0, 60)
        )

    def to_dict(self) -> dict[str, Any]:
        return {"free": self.free, "total": self.total, "wait": self.wait}


@dataclass(frozen=True)
class ClaimedJob:
    """One execution the claim handed to a runner: what to run, with what, under which lease."""

    id: str
    lease_token: str
    attempt: int
    flow: dict[str, Any]
    lease_seconds: int = 0
    trigger_data: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    entry: str | None = None
    checkpoint: Any = None
    resume_data: Any = None
    egress: dict[str, Any] | None = None  # the policy a shared runner applies; absent: its own config's

    @classmethod
    def from_dict(cls, data: Any) -> ClaimedJob:
        data = _object(data, "A claimed execution")
        for name in ("id", "lease_token"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise PayloadError(f"A claimed execution needs '{name}'.")
        egress = data.get("egress")
        return cls(
            id=data["id"],
            lease_token=data["lease_token"],
            attempt=int(data.get("attempt") or 1),
            flow=data.get("flow") if isinstance(data.get("flow"), dict) else {},
            lease_seconds=int(data.get("lease_seconds") or 0),
            trigger_data=data.get("trigger_data"),
            context=data.get("context") if isinstance(data.get("context"), dict) else {},
            entry=data.get("entry") or None,
            checkpoint=data.get("checkpoint"),
            resume_data=data.get("resume_data"),
            egress=egress if isinstance(egress, dict) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "lease_token": self.lease_token,
            "lease_seconds": self.lease_seconds,
            "attempt": self.attempt,
            "flow": self.flow,
            "trigger_data": self.trigger_data,
            "context": self.context,
            "entry": self.entry,
            "checkpoint": self.checkpoint,
            "resume_data": self.resume_data,
        }
        if self.egress is not None:
            data["egress"] = self.egress
        return data


@dataclass(frozen=True)
class Lease:
    id: str
    lease_token: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "lease_token": self.lease_token}


def _leases(data: dict[str, Any]) -> tuple[Lease, ...]:
    items = data.get("executions") or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise PayloadError("'executions' must be a list of {id, lease_token}.")
    return tuple(Lease(str(item.get("id")), str(item.get("lease_token"))) for item in items)


@dataclass(frozen=True)
class Heartbeat:
    """POST .../heartbeat: the executions the runner holds (their leases are extended) and how many of
    its slots are busy."""

    executions: tuple[Lease, ...] = ()
    busy: int | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Heartbeat:
        data = _object(data, "The heartbeat")
        busy = data.get("busy")
        return cls(
            executions=_leases(data),
            busy=busy if isinstance(busy, int) and not isinstance(busy, bool) and busy >= 0 else None,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"executions": [lease.to_dict() for lease in self.executions]}
        if self.busy is not None:
            data["busy"] = self.busy
        return data


@dataclass(frozen=True)
class ExecutionReport:
    """One execution's part of a report: new step events, and its final result (the result dict is the
    executor's, normalised: status, outputs, node_results, checkpoint, error, resume_at) or, with
    `release`, the execution given back unstarted."""

    id: str
    lease_token: str
    events: tuple[dict[str, Any], ...] = ()
    result: dict[str, Any] | None = None
    release: bool = False
    # The run's last checkpoint (after its last finished node), so a new attempt can go on from there.
    progress: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Any) -> ExecutionReport:
        data = _object(data, "A reported execution")
        events = data.get("events") or []
        if not isinstance(events, list):
            raise PayloadError("'events' must be a list.")
        result, progress = data.get("result"), data.get("progress")
        if progress is not None and not isinstance(progress, dict):
            raise PayloadError("'progress' must be a checkpoint object.")
        return cls(
            id=str(data.get("id")),
            lease_token=str(data.get("lease_token")),
            events=tuple(events),
            result=result if isinstance(result, dict) else None,
            release=data.get("release") is True,
            progress=progress,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "lease_token": self.lease_token, "events": list(self.events)}
        if self.progress is not None and self.result is None and not self.release:
            data["progress"] = self.progress
        if self.release:
            data["release"] = True
        elif self.result is not None:
            data["result"] = self.result
        return data


@dataclass(frozen=True)
class Report:
    """POST .../report: a batch of executions' events and results."""

    executions: tuple[ExecutionReport, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        data = _object(data, "The report")
        items = data.get("executions") or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise PayloadError("'executions' must be a list of objects.")
        return cls(executions=tuple(ExecutionReport.from_dict(item) for item in items))

    def to_dict(self) -> dict[str, Any]:
        return {"executions": [item.to_dict() for item in self.executions]}


@dataclass(frozen=True)
class ReportOutcome:
    """The server's answer for one reported execution: "ok", "duplicate" or "lost" (its lease was taken
    over: stop it), whether it should be cancelled, and its state."""

    outcome: str
    cancel: bool = False
    state: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> ReportOutcome:
        data = data if isinstance(data, dict) else {}
        return cls(
            outcome=str(data.get("outcome") or ""),
            cancel=bool(data.get("cancel")),
            state=data.get("state") if isinstance(data.get("state"), str) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "cancel": self.cancel, "state": self.state}


def normalise_result(state: Any) -> dict[str, Any]:
    """The executor's RunResult.to_state() (or state.json) as the result a report carries and the API stores
    (a runner's, or an inline run's in the web process)."""
    if not isinstance(state, dict):
        state = {"status": "failed", "error": "The executor returned no result."}
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
        **({"usage": state["usage"]} if isinstance(state.get("usage"), dict) else {}),
        **({"duration_ms": state["duration_ms"]} if isinstance(state.get("duration_ms"), int) else {}),
    }
