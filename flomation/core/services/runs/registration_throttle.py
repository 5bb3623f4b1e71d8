"""Wrong runner registration codes, counted per client address: past the limit, every registration from
that address is refused (429 with Retry-After) until the window passes, even one with the right code.

The count, the code check and the record of a wrong code happen in one transaction under an advisory lock
per address, so concurrent guesses are counted one after another and never pass the limit together.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from flomation.core.executions.common import ProtocolError
from flomation.core.models import RegistrationFailure

logger = logging.getLogger(__name__)


def _window() -> timedelta:
    return timedelta(seconds=int(settings.RUNNER_REGISTRATION_FAILURE_WINDOW))


@contextmanager
def registration_attempt(*, ip_address: str | None) -> Iterator[None]:
    """Holds the address's lock for one registration attempt: raises ProtocolError(429) while the address
    is at its limit; the block runs the code check (inside the same transaction)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"flomation.runner-register:{ip_address}"]
            )
        limit = int(settings.RUNNER_REGISTRATION_FAILURE_LIMIT)
        recent = RegistrationFailure.objects.filter(
            ip_address=ip_address, created_at__gt=timezone.now() - _window()
        )
        if recent.count() >= limit:
            newest = list(recent.order_by("-created_at").values_list("created_at", flat=True)[:limit])
            retry_after = max(1, int((newest[-1] + _window() - timezone.now()).total_seconds()) + 1)
            logger.warning(
                "Runner registration refused: too many wrong registration codes from %s; retry in %s s.",
                ip_address or "an unknown address",
                retry_after,
            )
            raise ProtocolError(
                429,
                "too_many_attempts",
                f"Too many wrong registration codes from this address. Try again in {retry_after} s "
                "with the code from the queue's page.",
                {"Retry-After": str(retry_after)},
            )
        yield


def registration_failure_record(*, ip_address: str | None) -> None:
    """Counts one wrong code against the address (call it inside `registration_attempt`)."""
    RegistrationFailure.objects.create(ip_address=ip_address)
    if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
        RegistrationFailure.objects.filter(created_at__lt=timezone.now() - _window()).delete()
