"""Exceptions that carry control flow between nodes and the engine."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class NodeError(Exception):
    """A node failed in a way the flow author can act on; the message is shown as-is."""


class InputError(NodeError):
    """An input could not be resolved or converted to its declared type."""


class NodeTimeout(NodeError):
    """The node ran past its own timeout (``data.config.timeout_seconds``) or the flow's."""


class Cancelled(Exception):
    """The run was cancelled (SIGTERM, SIGINT or the caller's cancel event)."""


class FlowTimeout(Exception):
    """The whole run passed ``ExecutorSettings.flow_timeout_seconds``."""


class Suspend(Exception):  # noqa: N818 - a signal, not an error
    """Raised by wait, pause and await nodes: stop here, write a checkpoint, resume later."""

    def __init__(
        self,
        reason: str,
        *,
        resume_at: str | None = None,
        outputs: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.resume_at = resume_at
        self.outputs = outputs or {}
        self.extra = extra


class NodeFailure(Exception):
    """A node failed for good (after its retries): ends the normal pass of the flow."""

    def __init__(self, node_id: str, label: str, action: str, message: str) -> None:
        super().__init__(message)
        self.node_id = node_id
        self.label = label
        self.action = action
        self.message = message
