"""AUDIT_STREAM: each committed entry as one JSON line, to a file or to syslog, for a SIEM."""

from __future__ import annotations

import json
import logging
import logging.handlers
import threading

from django.conf import settings

from flomation.core.models import AuditEntry
from flomation.core.selectors.audit import entry_document

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_handler: tuple[str, logging.Handler] | None = None


def _make_handler(target: str) -> logging.Handler:
    if target.startswith("file:"):
        # WatchedFileHandler reopens the file after logrotate moves it.
        return logging.handlers.WatchedFileHandler(target.removeprefix("file:"), encoding="utf-8")
    if target == "syslog":
        return logging.handlers.SysLogHandler(address="/dev/log")
    host, _, port = target.removeprefix("syslog:").rpartition(":")
    if host.startswith("/") or not port.isdigit():
        return logging.handlers.SysLogHandler(address=target.removeprefix("syslog:"))
    return logging.handlers.SysLogHandler(address=(host, int(port)))


def _current_handler() -> logging.Handler | None:
    global _handler
    target = settings.AUDIT_STREAM
    if not target:
        return None
    with _lock:
        if _handler is None or _handler[0] != target:
            if _handler is not None:
                _handler[1].close()
            handler = _make_handler(target)
            handler.setFormatter(logging.Formatter("%(message)s"))
            _handler = (target, handler)
        return _handler[1]


def entry_stream(entry: AuditEntry) -> None:
    """Writes the entry as one JSON line; a stream that fails is logged, never the cause of a failed change."""
    try:
        handler = _current_handler()
        if handler is None:
            return
        line = json.dumps(entry_document(entry), sort_keys=True, separators=(",", ":"), default=str)
        handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO, "levelname": "INFO"}))
    except Exception as error:  # the entry is in the database either way
        logger.warning("Could not stream audit entry %s: %s", entry.id, type(error).__name__)
