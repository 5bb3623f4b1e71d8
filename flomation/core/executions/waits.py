"""Waiting for an execution to finish, as lastNode webhooks do, cheaply.

A wait costs no database connection of its own (the process's one listener wakes it) and gives back the
request's connection once it has waited a moment, so hundreds of waiting requests hold neither
connections nor the threads that claims and reports need (see `listener.wait_slot`).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from flomation.core.executions.channels import execution_key
from flomation.core.executions.listener import listener
from flomation.core.models import Execution, ExecutionState

logger = logging.getLogger(__name__)

# A wait keeps the request's database connection this long (most flows answer sooner), then gives it back.
HOLD_CONNECTION_SECONDS = 0.2
# A NOTIFY can be lost while the listener reconnects; a waiter looks again at least this often.
RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class ExecutionOutcome:
    state: str
    outputs: dict[str, Any] = field(default_factory=dict)


def execution_outcome(*, execution_id: uuid.UUID) -> ExecutionOutcome | None:
    """The state and outputs of an execution that has finished or suspended; None while it runs."""
    row = Execution.objects.filter(id=execution_id).values("state", "outputs").first()
    if row is None or row["state"] not in ExecutionState.finished() | {ExecutionState.SUSPENDED}:
        return None
    return ExecutionOutcome(state=row["state"], outputs=row["outputs"] or {})


def execution_wait_finished(*, execution_id: uuid.UUID, timeout: float) -> ExecutionOutcome | None:
    """The execution's outcome once it has finished (or suspended), or None if it has not within
    `timeout` seconds, or at once when this process has no wait slot left (the caller answers as it would
    after a timeout: accepted, still running)."""
    if timeout <= 0:
        return execution_outcome(execution_id=execution_id)
    waits = listener()
    if not waits.wait_slot_take():
        logger.warning(
            "execution %s: not waiting for its result, all %d wait slots of this process are in use "
            "(FLOMATION_WEB_WAITS)",
            execution_id,
            waits.slots_total,
        )
        return None
    started = time.monotonic()
    deadline = started + timeout
    released = False
    try:
        with waits.waiting(executions=[execution_key(execution_id)]) as waiter:
            while True:
                outcome = execution_outcome(execution_id=execution_id)  # after subscribing: none slips by
                if released and not connection.in_atomic_block:
                    connection.close()
                if outcome is not None or waiter.closed:
                    return outcome
                now = time.monotonic()
                if now >= deadline:
                    return None
                if not released:
                    hold = started + HOLD_CONNECTION_SECONDS - now
                    if hold > 0 and waiter.wait(min(hold, deadline - now)):
                        continue
                    if not connection.in_atomic_block:  # nothing yet: wait without the connection
                        connection.close()
                        released = True
                waiter.wait(min(deadline - time.monotonic(), RECHECK_SECONDS))
    finally:
        waits.wait_slot_give()
