"""Lease-based ownership of timed triggers: each launch process claims triggers for LAUNCH_LEASE_SECONDS
(two minutes by default), renews its leases on every tick, and takes over any lease whose holder stopped
renewing it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from flomation.launch.models import Trigger, TriggerKind, TriggerLease


def lease_ttl() -> timedelta:
    return timedelta(seconds=settings.LAUNCH_LEASE_SECONDS)


_ACQUIRE = """
INSERT INTO launch_triggerlease (trigger_id, owner, acquired_at, expires_at)
SELECT t.id, %(owner)s, %(now)s, %(expires)s
  FROM launch_trigger t LEFT JOIN launch_triggerlease l ON l.trigger_id = t.id
 WHERE t.active AND t.enabled AND t.kind = ANY(%(kinds)s)
   AND (l.trigger_id IS NULL OR l.expires_at <= %(now)s)
 ORDER BY t.next_run_at NULLS FIRST
 LIMIT %(limit)s
ON CONFLICT (trigger_id) DO UPDATE
   SET owner = EXCLUDED.owner, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
 WHERE launch_triggerlease.expires_at <= %(now)s
RETURNING trigger_id
"""


def leases_renew(*, owner: str, now: datetime) -> int:
    """Extends this owner's unexpired leases to now + TTL; returns how many it holds."""
    return TriggerLease.objects.filter(owner=owner, expires_at__gt=now).update(expires_at=now + lease_ttl())


def leases_acquire(*, owner: str, now: datetime, limit: int = 100) -> int:
    """Takes free and expired leases of timed triggers (at most `limit`); returns how many were taken.

    Two processes inserting the same new lease meet on the primary key: the second one's ON CONFLICT
    sees an unexpired lease and takes nothing.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _ACQUIRE,
            {
                "owner": owner,
                "now": now,
                "expires": now + lease_ttl(),
                "kinds": sorted(TriggerKind.timed()),
                "limit": limit,
            },
        )
        return len(cursor.fetchall())


def leases_release(*, owner: str) -> int:
    """Gives up this owner's leases (on shutdown) so other processes take them at once."""
    return TriggerLease.objects.filter(owner=owner).delete()[0]


def lease_held(*, trigger_id: object, owner: str, now: datetime) -> bool:
    return TriggerLease.objects.filter(trigger_id=trigger_id, owner=owner, expires_at__gt=now).exists()


def due_trigger(*, owner: str, now: datetime) -> Trigger | None:
    """The owned timed trigger that has waited longest past its next run time, if any, with the lease as
    it is now (its acquisition time is the fencing token a schedule fires under)."""
    return (
        Trigger.objects.select_related(
            "workflow__organisation", "environment", "deployment__revision", "lease"
        )
        .filter(
            lease__owner=owner,
            lease__expires_at__gt=now,
            active=True,
            enabled=True,
            next_run_at__lte=now,
        )
        .order_by("next_run_at")
        .first()
    )
