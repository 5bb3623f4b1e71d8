"""Event lines: ``__NODE__:{json}`` with sorted keys, compact, long strings cut with a marker."""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PREFIX = "__NODE__:"
# With PROGRESS_VARIABLE set (by a runner), `run` also writes the run's checkpoint after each finished node
# as one `__PROGRESS__:{json}` line; an executor that does not know it simply writes none.
PROGRESS_PREFIX = "__PROGRESS__:"
PROGRESS_VARIABLE = "FLOMATION_PROGRESS_EVENTS"
DEFAULT_MAX_BYTES = 4096


def truncate_text(text: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Cut at a valid UTF-8 boundary and say how long the original was."""
    if len(text) * 4 <= max_bytes:
        return text
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    head = encoded[:max_bytes].decode("utf-8", errors="ignore")
    return f"{head}… [truncated, {len(encoded)} bytes total]"


def truncate_strings(value: Any, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """A copy of ``value`` with every over-long string cut (the value itself when nothing is)."""
    if isinstance(value, str):
        return truncate_text(value, max_bytes) if len(value) * 4 > max_bytes else value
    if isinstance(value, dict):
        changed = None
        for key, item in value.items():
            new = truncate_strings(item, max_bytes)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if isinstance(value, list | tuple):
        items = [truncate_strings(item, max_bytes) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
        return value
    return value


def event_line(event: dict[str, Any], max_bytes: int | None = DEFAULT_MAX_BYTES) -> str:
    """The stdout line for an event; ``max_bytes=None`` when the engine has already cut it."""
    if max_bytes is not None:
        event = truncate_strings(event, max_bytes)
    return PREFIX + json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
