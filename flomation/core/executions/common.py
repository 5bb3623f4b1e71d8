"""What the runner-protocol services share: the refusal type, lease length and id parsing."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from flomation.core.models import ExecutionState

LEASED = (ExecutionState.CLAIMED, ExecutionState.RUNNING)


class ProtocolError(Exception):
    """A refusal a runner can act on: HTTP status, a stable code and a message that says what to do."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def lease_seconds() -> int:
    """How long a claim or heartbeat holds an execution (RUNNER_LEASE_SECONDS, default 30)."""
    return int(settings.RUNNER_LEASE_SECONDS)


def as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
