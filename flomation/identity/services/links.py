"""Single-use links sent by email. The secret has 256 random bits; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from flomation.identity import conf
from flomation.identity import db as identity_db
from flomation.identity.errors import LinkInvalid
from flomation.identity.models import EmailLink, User


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _lifetime(purpose: str) -> int:
    return conf.verify_link_lifetime() if purpose == EmailLink.Purpose.VERIFY else conf.reset_link_lifetime()


def link_sending_allowed(*, user: User) -> bool:
    """False once the account was sent `links_per_hour` links within the last hour."""
    since = timezone.now() - timedelta(hours=1)
    return EmailLink.objects.filter(user=user, created_at__gt=since).count() < conf.links_per_hour()


@identity_db.atomic()
def link_issue(*, user: User, purpose: str) -> str:
    """Creates a link and returns its secret; earlier unused links of the same purpose stop working."""
    now = timezone.now()
    EmailLink.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
    secret = secrets.token_urlsafe(32)
    EmailLink.objects.create(
        user=user,
        purpose=purpose,
        secret_hash=_hash(secret),
        created_at=now,
        expires_at=now + timedelta(seconds=_lifetime(purpose)),
    )
    return secret


def link_get(*, secret: str, purpose: str) -> EmailLink:
    """The unused, unexpired link with this secret; raises LinkInvalid otherwise. Does not use it up."""
    if not secret or len(secret) > 128:
        raise LinkInvalid()
    link = (
        EmailLink.objects.select_related("user")
        .filter(
            secret_hash=_hash(secret),
            purpose=purpose,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )
    if link is None:
        raise LinkInvalid()
    return link


def link_use(*, link: EmailLink) -> None:
    """Marks the link used, exactly once across concurrent requests; raises LinkInvalid if it was."""
    used = EmailLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=timezone.now()).update(
        used_at=timezone.now()
    )
    if not used:
        raise LinkInvalid()


def links_revoke(*, user: User, purpose: str) -> None:
    EmailLink.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=timezone.now())


def link_code_failure(*, link: EmailLink) -> None:
    """Counts a wrong one-time code typed on the link's page; uses the link up after too many."""
    EmailLink.objects.filter(pk=link.pk).update(code_attempts=F("code_attempts") + 1)
    EmailLink.objects.filter(
        pk=link.pk, used_at__isnull=True, code_attempts__gte=EmailLink.MAX_CODE_ATTEMPTS
    ).update(used_at=timezone.now())


def links_prune(*, older_than_days: int = 30) -> int:
    """Deletes links that expired more than `older_than_days` ago; returns how many."""
    deleted, _ = EmailLink.objects.filter(
        expires_at__lt=timezone.now() - timedelta(days=older_than_days)
    ).delete()
    return deleted
