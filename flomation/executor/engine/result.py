"""What a run returns: its status, flow outputs, per-node records and the checkpoint."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SUCCEEDED, FAILED, CANCELLED, SUSPENDED = "succeeded", "failed", "cancelled", "suspended"


class RunResult:
    """``status`` is one of succeeded, failed, cancelled, suspended; every value is masked."""

    __slots__ = (
        "status",
        "outputs",
        "node_results",
        "checkpoint",
        "error",
        "error_node_id",
        "validation_errors",
        "started_at",
        "duration_ms",
        "usage",
    )

    def __init__(
        self,
        status: str,
        *,
        outputs: dict[str, Any] | None = None,
        node_results: dict[str, dict[str, Any]] | None = None,
        checkpoint: dict[str, Any] | None = None,
        error: str | None = None,
        error_node_id: str | None = None,
        validation_errors: list[Any] | None = None,
        started_at: str | None = None,
        duration_ms: int = 0,
    ) -> None:
        self.status = status
        self.outputs = outputs or {}
        self.node_results = node_results or {}
        self.checkpoint = checkpoint
        self.error = error
        self.error_node_id = error_node_id
        self.validation_errors = validation_errors or []
        self.started_at = started_at
        self.duration_ms = duration_ms
        # Model tokens the run's nodes used: {"input_tokens": n, "output_tokens": n} (empty: none).
        self.usage: dict[str, int] = {}

    @property
    def ok(self) -> bool:
        return self.status == SUCCEEDED

    def to_state(self) -> dict[str, Any]:
        """The ``state.json`` document."""
        state: dict[str, Any] = {
            "status": self.status,
            "outputs": self.outputs,
            "node_results": self.node_results,
            "duration_ms": self.duration_ms,
        }
        if self.started_at:
            state["started_at"] = self.started_at
        if self.error:
            state["error"] = self.error
        if self.error_node_id:
            state["error_node_id"] = self.error_node_id
        if self.validation_errors:
            state["validation_errors"] = [e.to_dict() for e in self.validation_errors]
        if self.checkpoint is not None:
            state["checkpoint"] = self.checkpoint
        if self.usage:
            state["usage"] = self.usage
        return state

    def __repr__(self) -> str:
        return f"RunResult(status={self.status!r}, error={self.error!r}, outputs={self.outputs!r})"
