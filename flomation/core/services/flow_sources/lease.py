"""The sync lease on a flow source: claimed by compare-and-swap, so any number of api processes may run the
loops and only one applies a source at a time; a process that died lets its lease expire."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from flomation.core.models import FlowSource


def _free(now: object) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def flow_source_claim(
    *, kind: str, source_id: uuid.UUID | None = None
) -> tuple[FlowSource, uuid.UUID] | None:
    """Takes the lease on one due source of `kind` (or on `source_id` when it is due); None if none is."""
    now = timezone.now()
    due = FlowSource.objects.filter(_free(now), kind=kind, next_check_at__lte=now)
    if source_id is not None:
        due = due.filter(id=source_id)
    for candidate in due.order_by("next_check_at").values_list("id", flat=True)[:10]:
        token = uuid.uuid4()
        expires = now + timedelta(seconds=settings.GIT_SYNC_LEASE_SECONDS)
        taken = FlowSource.objects.filter(_free(now), id=candidate).update(
            lease_token=token, lease_expires_at=expires
        )
        if taken:
            return FlowSource.objects.select_related("organisation", "connection").get(id=candidate), token
    return None


def flow_source_release(*, source: FlowSource, token: uuid.UUID, next_in_seconds: float) -> None:
    """Gives the lease back and sets when the source is next due."""
    FlowSource.objects.filter(id=source.id, lease_token=token).update(
        lease_token=None,
        lease_expires_at=None,
        next_check_at=timezone.now() + timedelta(seconds=next_in_seconds),
    )


def flow_source_due_now(*, source: FlowSource) -> None:
    """Makes the source due at once (a push webhook, a change of settings, 'Sync now')."""
    FlowSource.objects.filter(id=source.id).update(next_check_at=timezone.now())
