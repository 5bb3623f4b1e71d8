"""Text the database can store. PostgreSQL's text and jsonb cannot hold the NUL character (U+0000): a
value carrying one fails deep in the database driver, so input is checked for it at the door."""

from __future__ import annotations

from typing import Any

NUL = "\x00"


def holds_nul(value: Any) -> bool:
    """True when `value` (a string, or JSON-like lists and dicts of them, keys included) contains NUL."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False
