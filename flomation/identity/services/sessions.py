"""Sessions: one row per issued token (its jti). Revoking a row stops its token at once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from flomation.identity import db as identity_db
from flomation.identity.models import Session, User
from flomation.identity.services.audit import identity_event
from flomation.identity.tokens import token_issue


@identity_db.atomic()
def session_create(
    *,
    user: User,
    method: str = Session.Method.BROWSER,
    ip_address: str | None = None,
    user_agent: str = "",
    audit_action: str = "session.created",
) -> tuple[Session, str]:
    """Starts a session and returns it with its signed token; records `audit_action` (a login says so)."""
    lifetime = int(settings.AUTH_TOKEN_LIFETIME)
    now = timezone.now()
    session = Session.objects.create(
        user=user,
        method=method,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=lifetime),
        ip_address=ip_address,
        user_agent=user_agent[:300],
    )
    token, _ = token_issue(
        user_id=str(user.id),
        email=user.email,
        display_name=user.display_name,
        lifetime=lifetime,
        token_id=str(session.id),
    )
    user.last_login = now
    user.save(update_fields=["last_login"])
    identity_event(
        action=audit_action,
        user=user,
        target_type="session",
        target_id=session.id,
        summary={"method": method},
    )
    return session, token


def session_revoke(*, user_id: uuid.UUID | str, session_id: uuid.UUID | str) -> bool:
    """Revokes one of the user's sessions; returns False when it is not theirs or already ended."""
    with identity_db.atomic():
        revoked = Session.objects.filter(id=session_id, user_id=user_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            user = User.objects.filter(id=user_id).only("id", "email").first()
            identity_event(action="session.revoked", user=user, target_type="session", target_id=session_id)
    return bool(revoked)


def sessions_revoke_all(*, user: User, keep_session_id: uuid.UUID | str | None = None) -> int:
    """Revokes every live session of the user (but `keep_session_id`); returns how many."""
    sessions = Session.objects.filter(user=user, revoked_at__isnull=True)
    if keep_session_id is not None:
        sessions = sessions.exclude(id=keep_session_id)
    return sessions.update(revoked_at=timezone.now())


def sessions_prune(*, older_than_days: int = 30) -> int:
    """Deletes sessions that ended more than `older_than_days` ago; returns how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = Session.objects.filter(expires_at__lt=cutoff).delete()
    revoked, _ = Session.objects.filter(revoked_at__lt=cutoff).delete()
    return deleted + revoked


def sessions_revoke_on_credentials_revoked(*, user_id: str, reason: str, **_: Any) -> None:
    """credentials_revoked receiver: a deactivated account, or a password changed by any path (the admin
    included), ends every session of the user."""
    Session.objects.filter(user_id=user_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
