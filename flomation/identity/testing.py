"""Helpers for other components' tests: real identity tokens, backed by a live session.

A token is honoured only while its session row is live, so a token made with `token_issue` alone (no
session) is refused. Tests that need an authenticated caller use `session_token`, which needs the
database (pytest-django's `db` fixture).
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from flomation.identity.models import Session, User
from flomation.identity.services.sessions import session_create


def session_token(
    *,
    email: str | None = None,
    user_id: str | None = None,
    display_name: str = "",
    method: str = Session.Method.API,
) -> str:
    """A signed token for the user with this id (or address), creating a verified user if there is none."""
    user_uuid = uuid.UUID(user_id) if user_id else uuid.uuid4()
    user = User.objects.filter(id=user_uuid).first()
    if user is None:
        address = (email or f"{str(user_uuid)[:8]}@example.test").strip().lower()
        user = User.objects.filter(email=address).first() or User.objects.create_user(
            address, id=user_uuid, display_name=display_name, email_verified_at=timezone.now()
        )
    _, token = session_create(user=user, method=method)
    return token
