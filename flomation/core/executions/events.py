"""One live event stream of an execution, as server-sent events, for the API and the editor alike.

Events (one vocabulary): `step` for each stored step (its id is the SSE id, so a reconnect with
Last-Event-ID or ?after= resumes where it stopped), `state` whenever the execution's state changes, and a
final `end` (the last state) once it has finished; `error` when the server cannot hold a stream now (the
browser's EventSource comes back after `retry`). Between reads the stream waits on the process's one
listener, holding no database connection while idle, and takes a slot of the wait budget.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import Any

from django.db import connection

from flomation.core.executions.channels import execution_key
from flomation.core.executions.listener import listener
from flomation.core.models import ExecutionState, ExecutionStep
from flomation.core.selectors.executions import execution_steps_after, execution_stream_state

logger = logging.getLogger(__name__)

STREAM_SECONDS = 300.0
HEARTBEAT_SECONDS = 15.0
BATCH = 200
# An idle stream gives its database connection back after this long without news.
HOLD_CONNECTION_SECONDS = 0.2


def sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, default=str, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def step_payload(step: ExecutionStep) -> dict[str, Any]:
    """A step as every live view and API answer shows it."""
    return {
        "id": step.id,
        "sequence": step.sequence,
        "attempt": step.attempt,
        "node_id": step.node_id,
        "action": step.action,
        "label": step.label,
        "status": step.status,
        "inputs": step.inputs,
        "outputs": step.outputs,
        "error": step.error,
        "duration_ms": step.duration_ms,
        "iteration": step.iteration,
        "retry": step.retry,
        "created_at": _iso(step.created_at),
    }


def state_payload(row: dict[str, Any]) -> dict[str, Any]:
    """An execution's state as the `state` and `end` events carry it (`row`: execution_stream_state)."""
    return {
        "id": str(row["id"]),
        "state": row["state"],
        "finished": row["state"] in ExecutionState.finished(),
        "attempt": row["attempt"],
        "error": row["error"],
        "outputs": row["outputs"],
        "cancel_requested": row["cancel_requested"],
        "created_at": _iso(row["created_at"]),
        "started_at": _iso(row["started_at"]),
        "finished_at": _iso(row["finished_at"]),
        "resume_at": _iso(row["resume_at"]),
    }


def execution_events(
    *,
    execution_id: Any,
    after: int | None,
    max_seconds: float = STREAM_SECONDS,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> Iterator[bytes]:
    """SSE frames until the execution has finished and every step is sent, or `max_seconds` pass. The
    caller has checked that the execution belongs to the organisation it asked for."""
    waits = listener()
    if not waits.wait_slot_take():
        logger.warning(
            "execution %s: live stream refused, all %d wait slots of this process are in use "
            "(FLOMATION_WEB_WAITS)",
            execution_id,
            waits.slots_total,
        )
        yield b"retry: 5000\n\n"
        yield sse("error", {"detail": "The server is busy; the stream resumes in a few seconds."})
        return
    try:
        with waits.waiting(executions=[execution_key(execution_id)]) as waiter:
            yield from _stream(waiter, execution_id, after, time.monotonic() + max_seconds, heartbeat)
    finally:
        waits.wait_slot_give()


def _steps(execution_id: Any, cursor: int) -> Generator[bytes, None, int]:
    """Every step after `cursor` as SSE frames; returns the new cursor."""
    while True:
        steps = execution_steps_after(execution_id=execution_id, after=cursor, limit=BATCH)
        for step in steps:
            yield sse("step", step_payload(step), event_id=step.id)
            cursor = step.id
        if len(steps) < BATCH:
            return cursor


def _stream(
    waiter: Any, execution_id: Any, after: int | None, deadline: float, heartbeat: float
) -> Iterator[bytes]:
    yield b"retry: 2000\n\n"
    cursor = after or 0
    last_state: dict[str, Any] | None = None
    while True:
        cursor = yield from _steps(execution_id, cursor)
        row = execution_stream_state(execution_id=execution_id)
        if row is None:
            yield sse("end", {"id": str(execution_id), "state": "deleted", "finished": True})
            return
        state = state_payload(row)
        if state["finished"]:
            # A run's last steps are committed with its result, possibly between the read of the steps
            # above and of the state: read them again now, so the end never comes before them.
            cursor = yield from _steps(execution_id, cursor)
        if state != last_state:
            yield sse("state", state)
            last_state = state
        if state["finished"]:
            yield sse("end", state)
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0 or waiter.closed:
            return
        woke = waiter.wait(min(HOLD_CONNECTION_SECONDS, remaining))
        if not woke:
            if not connection.in_atomic_block:  # idle: wait without a database connection
                connection.close()
            woke = waiter.wait(min(heartbeat, deadline - time.monotonic()))
        if not woke:
            yield b": keep-alive\n\n"
