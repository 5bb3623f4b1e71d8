"""Helpers the connection type modules share (not a type itself: `types()` skips `_` modules)."""

from __future__ import annotations

from typing import Any

from flomation.lib.connections.base import ConnectionFailed


def port_of(value: Any, default: int) -> int:
    """The port in `value` (blank: `default`); ConnectionFailed when it is not a TCP port."""
    try:
        port = int(value or default)
    except (TypeError, ValueError):
        raise ConnectionFailed(f"port must be a number (got {str(value)[:20]!r})") from None
    if not 0 < port < 65536:
        raise ConnectionFailed(f"port must be between 1 and 65535 (got {port})")
    return port


def scrub(text: str, fields: dict[str, Any], secrets: tuple[str, ...] = ("password",)) -> str:
    """`text` with every secret field's value replaced, should a server or library have echoed one."""
    for name in secrets:
        value = str(fields.get(name) or "")
        if len(value) >= 3:
            text = text.replace(value, "***")
    return text
