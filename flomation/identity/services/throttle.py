"""Login throttling: failures are counted per account (by address, known or not) and per client address.

An attempt is recorded as a failure *before* its password or code is checked, in the transaction that
counts the earlier ones, under an advisory lock per account and per client address: concurrent attempts
are counted one after another, so no more than the limit are ever evaluated, however many arrive at once.
An attempt that succeeds withdraws its record.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.utils import timezone

from flomation.identity import conf
from flomation.identity import db as identity_db
from flomation.identity.errors import Throttled
from flomation.identity.models import LoginFailure

logger = logging.getLogger(__name__)


def _retry_after(oldest_counted: datetime) -> int:
    window = timedelta(seconds=conf.login_failure_window())
    remaining = (oldest_counted + window) - timezone.now()
    return int(remaining.total_seconds()) + 1


def _checks(*, email: str, ip_address: str | None) -> list[tuple[str, dict[str, object], int]]:
    checks: list[tuple[str, dict[str, object], int]] = [
        (f"account:{email}", {"email": email}, conf.login_failure_limit_per_account())
    ]
    if ip_address:
        checks.append(
            (f"address:{ip_address}", {"ip_address": ip_address}, conf.login_failure_limit_per_address())
        )
    return checks


def _refuse_if_over(*, email: str, ip_address: str | None) -> None:
    since = timezone.now() - timedelta(seconds=conf.login_failure_window())
    for name, lookup, limit in _checks(email=email, ip_address=ip_address):
        recent = LoginFailure.objects.filter(created_at__gt=since, **lookup)
        if recent.count() >= limit:
            # Refused until the oldest of the newest `limit` failures leaves the window.
            newest = list(recent.order_by("-created_at").values_list("created_at", flat=True)[:limit])
            retry_after = _retry_after(newest[-1])
            logger.warning(
                "Login refused: too many failed attempts for the %s (account %s, client address %s); "
                "retry in %s s.",
                name.partition(":")[0],
                email,
                ip_address or "unknown",
                retry_after,
            )
            raise Throttled(retry_after)


def login_attempt_begin(*, email: str, ip_address: str | None) -> int:
    """Counts the recent failures and records this attempt as one more, atomically; returns the record's id
    (withdraw it with `login_attempt_succeeded` when the password or code turns out right).

    Raises Throttled, recording nothing, while the account or client address is at its limit.
    """
    keys = sorted(key for key, _, _ in _checks(email=email, ip_address=ip_address))
    with identity_db.atomic():
        with identity_db.connection().cursor() as cursor:
            for key in keys:  # always in the same order, so two attempts never wait on each other's lock
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"flomation.login:{key}"])
        _refuse_if_over(email=email, ip_address=ip_address)
        attempt = LoginFailure.objects.create(email=email[:254], ip_address=ip_address)
    if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
        login_failures_prune()
    return attempt.id


def login_attempt_succeeded(*, attempt_id: int) -> None:
    """Withdraws the failure that `login_attempt_begin` recorded in advance."""
    LoginFailure.objects.filter(id=attempt_id).delete()


def login_failures_clear(*, email: str) -> None:
    """Forgets an account's failures (after a successful login or a password reset by its owner)."""
    LoginFailure.objects.filter(email=email).delete()


def login_failures_prune() -> int:
    """Deletes failures older than the window; returns how many."""
    since = timezone.now() - timedelta(seconds=conf.login_failure_window())
    deleted, _ = LoginFailure.objects.filter(created_at__lt=since).delete()
    return deleted
