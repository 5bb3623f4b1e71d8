"""Login throttling: failures are counted per account (by address, known or not) and per client address."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from flomation.identity import conf
from flomation.identity.errors import Throttled
from flomation.identity.models import LoginFailure


def _retry_after(oldest_counted: datetime) -> int:
    window = timedelta(seconds=conf.login_failure_window())
    remaining = (oldest_counted + window) - timezone.now()
    return int(remaining.total_seconds()) + 1


def login_throttle_check(*, email: str, ip_address: str | None) -> None:
    """Raises Throttled while the account or the client address has too many recent failures."""
    since = timezone.now() - timedelta(seconds=conf.login_failure_window())
    checks: list[tuple[dict[str, object], int]] = [({"email": email}, conf.login_failure_limit_per_account())]
    if ip_address:
        checks.append(({"ip_address": ip_address}, conf.login_failure_limit_per_address()))
    for lookup, limit in checks:
        recent = LoginFailure.objects.filter(created_at__gt=since, **lookup)
        if recent.count() >= limit:
            # Refused until the oldest of the newest `limit` failures leaves the window.
            newest = list(recent.order_by("-created_at").values_list("created_at", flat=True)[:limit])
            raise Throttled(_retry_after(newest[-1]))


def login_failure_record(*, email: str, ip_address: str | None) -> None:
    LoginFailure.objects.create(email=email[:254], ip_address=ip_address)
    if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
        login_failures_prune()


def login_failures_clear(*, email: str) -> None:
    """Forgets an account's failures (after a successful login or a password reset by its owner)."""
    LoginFailure.objects.filter(email=email).delete()


def login_failures_prune() -> int:
    """Deletes failures older than the window; returns how many."""
    since = timezone.now() - timedelta(seconds=conf.login_failure_window())
    deleted, _ = LoginFailure.objects.filter(created_at__lt=since).delete()
    return deleted
