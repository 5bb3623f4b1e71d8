"""Responses whose body or headers a flow wrote (output/web_response, a lastNode answer).

A flow's answer is tenant content served from the platform's host. It is sent with
`Content-Security-Policy: sandbox`, so a browser shows it in an opaque origin: no script runs, and nothing in
it can read the platform's cookies, storage or API as the visitor. `X-Content-Type-Options: nosniff` stops a
browser from guessing HTML in a body declared as something else. The flow's own headers pass through
`flomation.lib.flow_headers`'s allow-list; X-Frame-Options stays the platform's. Pages launch renders from
its own templates (forms, thank-you and scan pages) are platform content and are not sandboxed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from typing import Any

from django.http import HttpResponse

from flomation.launch.config import as_int
from flomation.launch.models import Trigger
from flomation.lib.flow_headers import flow_headers

logger = logging.getLogger("flomation.launch")

FLOW_CONTENT_SECURITY_POLICY = "sandbox"
DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8"

_logged: set[tuple[str, tuple[str, ...]]] = set()
_logged_lock = threading.Lock()
_LOGGED_MAX = 4096


def sandboxed(response: HttpResponse) -> HttpResponse:
    """Marks `response` as flow-authored content: a sandboxed, opaque origin and no content sniffing."""
    response["Content-Security-Policy"] = FLOW_CONTENT_SECURITY_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response


def web_response_build(*, spec: dict[str, Any], trigger: Trigger) -> HttpResponse:
    """The HTTP response output/web_response describes, with only the headers a flow may set."""
    status = as_int(spec.get("status_code", spec.get("status")), 200, minimum=200, maximum=599)
    pairs = header_pairs(spec.get("headers"))
    content_type = spec.get("content_type")
    if content_type not in (None, ""):
        pairs = [(name, value) for name, value in pairs if name.lower() != "content-type"]
        pairs.insert(0, ("Content-Type", str(content_type)))
    body = spec.get("body", "")
    if not isinstance(body, str | bytes):
        body = json.dumps(body)
        if not any(name.lower() == "content-type" for name, _ in pairs):
            pairs.insert(0, ("Content-Type", "application/json"))
    checked = flow_headers(pairs, status=status)
    response = HttpResponse(body, status=status, content_type=DEFAULT_CONTENT_TYPE)
    for name, value in checked.kept:
        response[name] = value
    if checked.dropped:
        log_dropped_headers(trigger=trigger, names=checked.dropped)
    return sandboxed(response)


def log_dropped_headers(*, trigger: Trigger, names: list[str]) -> None:
    """Logs once per process for each trigger and set of refused header names (names only, never values),
    so a busy webhook does not write a line per request."""
    key = (str(trigger.id), tuple(sorted(set(names))))
    with _logged_lock:
        if key in _logged:
            return
        if len(_logged) >= _LOGGED_MAX:
            _logged.clear()
        _logged.add(key)
    logger.warning(
        "launch: refused headers %s set by the web response of trigger %s (organisation %s); a flow may "
        "set only Content-Type, caching, Content-Disposition, validators, a redirect's Location and "
        "custom X- headers",
        ", ".join(key[1]),
        trigger.public_id,
        trigger.organisation_id,
    )


def header_pairs(raw: Any) -> list[tuple[str, str]]:
    """Headers as output/web_response may give them: a map, a key/value list, or `Key: Value` lines."""
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            raw = json.loads(raw) if raw.strip().startswith(("{", "[")) else raw
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = [(item.get("key", ""), item.get("value", "")) for item in raw if isinstance(item, dict)]
    elif isinstance(raw, str):
        pairs = [tuple(line.split(":", 1)) for line in raw.splitlines() if ":" in line]  # type: ignore[misc]
    return [(str(name).strip(), str(value).strip()) for name, value in pairs if str(name).strip()]
