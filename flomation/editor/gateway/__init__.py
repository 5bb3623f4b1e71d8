"""The editor's one doorway into the platform: core's services and selectors, called in-process.

Views call these functions only. Each delegates to core's service or selector of the same name once it
exists; until then a small interim implementation lives here, so that the editor's pages work against
the contract and the swap touches no view. Nothing outside this package touches core's tables.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A request the platform refuses; the message says what was wrong and what to do.

    `status` is the HTTP status a JSON endpoint answers with.
    """

    def __init__(self, message: str, status: int = 400, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # Added to a JSON answer beside "error": {"errors": [...]} for a flow, {"fields": {...}} for inputs.
        self.details = details or {}


class NotFound(Refused):
    def __init__(self, message: str = "Not found, or not in this organisation.") -> None:
        super().__init__(message, 404)


class Forbidden(Refused):
    def __init__(self, message: str = "Your role in this organisation does not allow that.") -> None:
        super().__init__(message, 403)


def _messages(exc: Exception) -> str:
    from django.core.exceptions import ValidationError

    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return " ".join(str(m) for errors in exc.message_dict.values() for m in errors)
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or exc.__class__.__name__


def translated(exc: Exception) -> Refused | None:
    """Core's errors as the editor shows them: 400 bad input, 403 no permission, 404 missing, 409 conflict."""
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.http import Http404

    from flomation.core.executions.create import ExecutionRefused
    from flomation.core.services.errors import Conflict, FlowInvalid
    from flomation.core.services.inputs import InputsInvalid

    if isinstance(exc, Refused):
        return exc
    if isinstance(exc, FlowInvalid):
        return Refused(_messages(exc), 422, {"errors": exc.flow_errors})
    if isinstance(exc, InputsInvalid):
        summary = "; ".join(f"{name}: {message}" for name, message in exc.field_errors.items())
        return Refused(f"Check the inputs ({summary}).", 400, {"fields": exc.field_errors})
    if isinstance(exc, ValidationError):
        return Refused(_messages(exc), 400)
    if isinstance(exc, Conflict | ExecutionRefused):
        return Refused(str(exc), 409)
    if isinstance(exc, Http404):
        return NotFound(str(exc) or "Not found, or not in this organisation.")
    if isinstance(exc, PermissionDenied):
        return Forbidden(str(exc) or "Your role in this organisation does not allow that.")
    return None
