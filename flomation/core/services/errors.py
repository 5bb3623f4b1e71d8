"""Errors a caller can cause, raised by services and turned into HTTP answers by the API.

Services raise django.core.exceptions.ValidationError for bad input (400) and Conflict when the request
does not fit the object's current state (409); the editor shows both messages as they are.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class Conflict(Exception):
    """The request is valid but the object's state does not allow it (HTTP 409)."""


class ManagedInFiles(Conflict):
    """The workflow is managed in files (a flows folder or a Git repository): change the file instead."""


class FlowInvalid(ValidationError):
    """The flow JSON does not validate; `flow_errors` are dicts with node_id, field and message."""

    def __init__(self, flow_errors: list[dict[str, Any]]) -> None:
        self.flow_errors = flow_errors
        messages = [_describe(error) for error in flow_errors] or ["The flow is not valid."]
        super().__init__(messages)


def _describe(error: dict[str, Any]) -> str:
    where = []
    if error.get("node_id"):
        where.append(f"node {error['node_id']!r}")
    if error.get("field"):
        where.append(f"field {error['field']!r}")
    prefix = ", ".join(where)
    return f"{prefix}: {error.get('message', '')}" if prefix else str(error.get("message", ""))
