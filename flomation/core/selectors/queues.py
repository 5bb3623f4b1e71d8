from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from flomation.core.models import Organisation, Queue, Runner
from flomation.core.selectors.common import get_or_404

ONLINE_WITHIN = timedelta(minutes=2)


def queue_list(*, organisation: Organisation) -> QuerySet[Queue]:
    """The organisation's own queues (the platform's shared queue is not theirs to manage)."""
    return Queue.objects.filter(organisation=organisation).select_related("parent").order_by("name")


def queue_get(*, organisation: Organisation, queue_id: Any) -> Queue:
    return get_or_404(queue_list(organisation=organisation), "queue", id=queue_id)


def queue_usable(*, organisation: Organisation, queue_id: Any) -> Queue:
    """A queue a workflow of this organisation may use: its own, or the shared one if it accepts those."""
    allowed = Q(organisation=organisation)
    if organisation.accept_shared_runners:
        allowed |= Q(organisation__isnull=True)
    return get_or_404(Queue.objects.filter(allowed), "queue", id=queue_id)


def runner_list(*, organisation: Organisation, queue_id: Any = None) -> QuerySet[Runner]:
    rows = Runner.objects.filter(queue__organisation=organisation).select_related("queue")
    if queue_id:
        rows = rows.filter(queue_id=queue_id)
    return rows.order_by("name", "id")


def runner_list_shared(*, organisation: Organisation) -> QuerySet[Runner]:
    """The platform's shared runners that run this organisation's work (none if it does not accept them).

    Read-only for the organisation: shown so a team can see what runs its flows, managed by the operator.
    """
    if not organisation.accept_shared_runners:
        return Runner.objects.none()
    return (
        Runner.objects.filter(queue__organisation__isnull=True).select_related("queue").order_by("name", "id")
    )


def runner_get(*, organisation: Organisation, runner_id: Any) -> Runner:
    return get_or_404(runner_list(organisation=organisation), "runner", id=runner_id)


def runner_state(*, runner: Runner, now: Any = None) -> str:
    """disabled, online (heard from within two minutes), offline, or never_seen."""
    if not runner.enabled:
        return "disabled"
    if runner.last_contact_at is None:
        return "never_seen"
    return "online" if (now or timezone.now()) - runner.last_contact_at <= ONLINE_WITHIN else "offline"


@dataclass(frozen=True)
class QueueFigures:
    id: Any
    name: str
    organisation: str
    pending: int
    oldest_seconds: float
    running: int


@dataclass(frozen=True)
class RunnerFigures:
    id: Any
    name: str
    queue: str
    enabled: bool
    slots_in_use: int
    slots_total: int
    last_contact_at: Any
    online: bool


def _queue_label(queue: Queue) -> str:
    owner = queue.organisation.slug if queue.organisation_id else "shared"
    return f"{owner}/{queue.name}"


def queue_metrics() -> list[QueueFigures]:
    """Every queue of the platform with its pending count, its oldest pending age and what is running
    (for operators: metrics and the System page; no organisation filter, so never for tenants)."""
    now = timezone.now()
    pending = Q(executions__state="pending")
    rows = (
        Queue.objects.select_related("organisation")
        .annotate(
            pending=Count("executions", filter=pending),
            oldest=Min("executions__created_at", filter=pending),
            running=Count("executions", filter=Q(executions__state__in=("claimed", "running"))),
        )
        .order_by("organisation__slug", "name")
    )
    return [
        QueueFigures(
            id=queue.id,
            name=_queue_label(queue),
            organisation=queue.organisation.name if queue.organisation_id else "",
            pending=queue.pending,
            oldest_seconds=max(0.0, (now - queue.oldest).total_seconds()) if queue.oldest else 0.0,
            running=queue.running,
        )
        for queue in rows
    ]


def runner_metrics(*, seen_within: timedelta = timedelta(minutes=5)) -> list[RunnerFigures]:
    """Runners that reported recently (every one, for operators), with their slots."""
    now = timezone.now()
    rows = (
        Runner.objects.select_related("queue__organisation")
        .filter(last_contact_at__gte=now - seen_within)
        .order_by("name")
    )
    return [
        RunnerFigures(
            id=runner.id,
            name=runner.name,
            queue=_queue_label(runner.queue),
            enabled=runner.enabled,
            slots_in_use=runner.slots_in_use,
            slots_total=runner.slots_total,
            last_contact_at=runner.last_contact_at,
            online=runner.last_contact_at is not None and now - runner.last_contact_at <= ONLINE_WITHIN,
        )
        for runner in rows
    ]
