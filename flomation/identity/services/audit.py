"""Identity's events for the audit log, announced with the `audited` signal (core records them)."""

from __future__ import annotations

from typing import Any

from flomation.identity.signals import audited


def identity_event(
    *,
    action: str,
    user: Any = None,
    email: str = "",
    target_type: str = "user",
    target_id: Any = "",
    summary: dict[str, Any] | None = None,
) -> None:
    """Announces an event done by (or, for a failed login, attempted as) `user`. Never pass a password,
    a code or a token in `summary`."""
    user_id = str(user.id) if user is not None else None
    audited.send(
        sender="identity",
        action=action,
        user_id=user_id,
        email=email or (user.email if user is not None else ""),
        target_type=target_type,
        target_id=str(target_id or user_id or ""),
        summary=summary or {},
    )
