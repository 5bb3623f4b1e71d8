"""Identity's read operations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from flomation.identity import db as identity_db
from flomation.identity.models import Session, User

# last_seen_at is written at most this often per session, so a busy client does not write on every call.
_SEEN_GRANULARITY = timedelta(minutes=5)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


_LIVE_SESSION_SQL = f"""
SELECT s.last_seen_at FROM {Session._meta.db_table} s JOIN {User._meta.db_table} u ON u.id = s.user_id
 WHERE s.id = %s AND s.user_id = %s AND s.revoked_at IS NULL AND s.expires_at > %s AND u.is_active"""


def session_is_live(claims: dict[str, Any]) -> bool:
    """True while the token's session (its jti) is not revoked, not expired, and its user is active.

    Wired into flomation.identity.authentication by IdentityConfig.ready().
    """
    session_id, user_id = _uuid(claims.get("jti")), _uuid(claims.get("sub"))
    if session_id is None or user_id is None:
        return False
    now = timezone.now()
    # Every authenticated request asks this: plain SQL, since building the ORM query cost more than running it.
    with identity_db.connection().cursor() as cursor:
        cursor.execute(_LIVE_SESSION_SQL, [session_id, user_id, now])
        seen = cursor.fetchone()
    if seen is None:
        return False
    if seen[0] < now - _SEEN_GRANULARITY:
        Session.objects.filter(id=session_id).update(last_seen_at=now)
    return True


_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def user_credentials_valid_since(*, user_id: Any) -> datetime | None:
    """For credentials another component issues to a user (core's personal API tokens): None when the user
    does not exist or is deactivated (refuse at once); else the moment of the last password change, before
    which everything issued to the user is void."""
    parsed = _uuid(user_id)
    if parsed is None:
        return None
    row = User.objects.filter(id=parsed, is_active=True).values_list("password_changed_at", flat=True)[:1]
    found = list(row)
    if not found:
        return None
    return found[0] or _BEGINNING


def user_get(*, user_id: Any) -> User | None:
    """The active user with this id, or None."""
    parsed = _uuid(user_id)
    if parsed is None:
        return None
    return User.objects.select_related("totp_device").filter(id=parsed, is_active=True).first()


def session_list_live(*, user: User) -> QuerySet[Session]:
    return Session.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-last_seen_at"
    )


def recovery_codes_left(*, user: User) -> int:
    return user.recovery_codes.filter(used_at__isnull=True).count()


def user_is_staff(*, user_id: Any) -> bool:
    """True for an active operator account (staff): the platform-wide pages are theirs only."""
    user = user_get(user_id=user_id)
    return bool(user is not None and user.is_active and user.is_staff)
