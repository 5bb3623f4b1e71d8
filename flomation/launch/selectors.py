"""Launch's read side: what the editor shows about a workflow's triggers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from flomation.core.models import Environment, Workflow
from flomation.launch.models import Invocation, Trigger, TriggerKind
from flomation.launch.schedules import ScheduleError, next_fire_times, schedule_from_config
from flomation.lib import crypto

_URL_NAMES = {
    TriggerKind.WEBHOOK: "launch-webhook",
    TriggerKind.WEB: "launch-webhook",
    TriggerKind.OTHER: "launch-webhook",
    TriggerKind.FORM: "launch-form",
    TriggerKind.QR: "launch-scan",
    TriggerKind.IMAGE: "launch-image",
    TriggerKind.MANUAL: "launch-run",
    TriggerKind.SLACK: "launch-slack",
    TriggerKind.TELEGRAM: "launch-telegram",
    TriggerKind.TEAMS: "launch-teams",
}


# Further addresses of a trigger beside its main one (name -> URL name, with the URL's extra kwargs).
_MORE_URLS: dict[str, dict[str, str]] = {
    TriggerKind.QR: {"png": "launch-qr-png", "svg": "launch-qr-svg"},
    TriggerKind.IMAGE: {"gif": "launch-image-gif", "png": "launch-image-png"},
}


@dataclass(frozen=True)
class ListedTrigger:
    trigger: Trigger
    url: str  # the public address, "" for schedules and pollers
    next_fire_times: list[datetime] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)  # every address, by name ("scan", "png", ...)
    cron: str = ""  # schedules: the five-field expression and its IANA time zone
    timezone: str = ""
    schedule_error: str = ""  # schedules whose settings cannot be read: what is wrong

    @property
    def is_poller(self) -> bool:
        return self.trigger.kind in TriggerKind.timed() and self.trigger.kind != TriggerKind.SCHEDULE


def trigger_url(trigger: Trigger) -> str:
    name = _URL_NAMES.get(trigger.kind)  # type: ignore[call-overload]
    return settings.LAUNCH_URL.rstrip("/") + reverse(name, args=[trigger.public_id]) if name else ""


def trigger_next_fire_times(
    *, trigger: Trigger, count: int = 5, after: datetime | None = None
) -> list[datetime]:
    if trigger.kind != TriggerKind.SCHEDULE or not (trigger.active and trigger.enabled):
        return []
    try:
        return next_fire_times(schedule_from_config(trigger.config), after or timezone.now(), count)
    except ScheduleError:
        return []


def trigger_urls(trigger: Trigger) -> dict[str, str]:
    main = trigger_url(trigger)
    if not main:
        return {}
    base = settings.LAUNCH_URL.rstrip("/")
    urls = {"scan" if trigger.kind == TriggerKind.QR else "url": main}
    for name, url_name in _MORE_URLS.get(trigger.kind, {}).items():
        urls[name] = base + reverse(url_name, args=[trigger.public_id])
    return urls


def listed_trigger(trigger: Trigger) -> ListedTrigger:
    """A trigger with its addresses, and for a schedule its cron, time zone and next five fire times."""
    cron = zone = error = ""
    if trigger.kind == TriggerKind.SCHEDULE:
        try:
            schedule = schedule_from_config(trigger.config)
            cron, zone = schedule.expression, str(schedule.zone)
        except ScheduleError as problem:
            error = str(problem)
    return ListedTrigger(
        trigger=trigger,
        url=trigger_url(trigger),
        next_fire_times=trigger_next_fire_times(trigger=trigger),
        urls=trigger_urls(trigger),
        cron=cron,
        timezone=zone,
        schedule_error=error,
    )


def trigger_get(*, public_id: str) -> Trigger | None:
    """The trigger with that public id (with its environment and deployed revision), or None."""
    return (
        Trigger.objects.select_related("environment", "deployment__revision")
        .filter(public_id=public_id)
        .first()
    )


def workflow_organisation_id(*, workflow_id: Any) -> uuid.UUID | None:
    """Which organisation a workflow belongs to (None when there is no such workflow), so that callers can
    check membership before reading anything else about it."""
    try:
        workflow_id = uuid.UUID(str(workflow_id))
    except ValueError:
        return None
    return Workflow.objects.filter(id=workflow_id).values_list("organisation_id", flat=True).first()


def triggers_for_workflow(
    *, workflow: Workflow, environment: Environment | None = None
) -> list[ListedTrigger]:
    """The workflow's active triggers (in one environment, or all), each with its URL and next fire times."""
    triggers = (
        Trigger.objects.filter(workflow=workflow, active=True)
        .select_related("environment", "deployment__revision")
        .order_by("environment__position", "node_id")
    )
    if environment is not None:
        triggers = triggers.filter(environment=environment)
    return [listed_trigger(trigger) for trigger in triggers]


def trigger_run_token(*, trigger: Trigger) -> str:
    """The manual-run token, for the workflow's editors only (callers check permissions)."""
    if not trigger.run_token_ciphertext:
        return ""
    return crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, trigger.run_token_ciphertext)


def invocation_execution_id(
    *, trigger: Trigger, delivery_id: str | None, signature_hash: str | None
) -> uuid.UUID | None:
    """The execution an earlier accepted request with this delivery id (or signature) started, if any."""
    match = Q(delivery_id=delivery_id) if delivery_id else Q()
    if signature_hash:
        match |= Q(signature_hash=signature_hash)
    if not match:
        return None
    return Invocation.objects.filter(match, trigger=trigger).values_list("execution_id", flat=True).first()
