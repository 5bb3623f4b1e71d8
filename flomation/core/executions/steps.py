"""Step events reported by runners, checked and shaped as the rows of ExecutionStep (see runs.results)."""

from __future__ import annotations

import json
from typing import Any

from flomation.core.executions.common import ProtocolError

MAX_EVENTS_PER_BATCH = 2000
_TEXT_LIMITS = {"node_id": 120, "action": 120, "label": 200, "status": 16}


def _text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value))[:limit]


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0, min(int(value), 2**31 - 1))


# A batch from `steps_json` as rows in SQL: jsonb_to_recordset(%s::jsonb) AS s({STEP_RECORD}).
STEP_RECORD = (
    "sequence int, node_id text, action text, label text, status text, inputs jsonb, outputs jsonb, "
    "error text, duration_ms int, iteration int"
)


def step_row(event: Any) -> dict[str, Any]:
    """One executor event (`__NODE__` JSON plus the runner's `sequence`) as the columns of a step row."""
    if not isinstance(event, dict):
        raise ProtocolError(400, "bad_event", "Each event must be a JSON object.")
    sequence = event.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence < 2**31:
        raise ProtocolError(400, "bad_event", "Each event needs a whole, non-negative 'sequence'.")
    error = event.get("error")
    return {
        "sequence": sequence,
        "node_id": _text(event.get("id") or event.get("node_id"), _TEXT_LIMITS["node_id"]),
        "action": _text(event.get("action"), _TEXT_LIMITS["action"]),
        "label": _text(event.get("label"), _TEXT_LIMITS["label"]),
        "status": _text(event.get("status"), _TEXT_LIMITS["status"]),
        "inputs": event.get("inputs"),
        "outputs": event.get("outputs"),
        "error": "" if error in (None, "") else str(error)[:10000],
        "duration_ms": _count(event.get("duration_ms")),
        "iteration": _count(event.get("iteration")),
    }


def steps_json(events: Any) -> str:
    """The batch as a JSON array of step rows (for jsonb_to_recordset); raises ProtocolError if malformed."""
    if not isinstance(events, list) or len(events) > MAX_EVENTS_PER_BATCH:
        raise ProtocolError(400, "bad_events", f"'events' must be a list of at most {MAX_EVENTS_PER_BATCH}.")
    return json.dumps([step_row(event) for event in events])


def progress_json(progress: Any) -> str | None:
    """A reported checkpoint as JSON for the execution's `progress`, or None when none came with the batch."""
    if progress is None:
        return None
    if not isinstance(progress, dict) or not isinstance(progress.get("node_results"), dict):
        raise ProtocolError(
            400, "bad_progress", "'progress' must be a checkpoint object with 'node_results'."
        )
    return json.dumps(progress)
