"""Launch's read side: what the editor shows about a workflow's triggers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from flomation.core.models import Environment, Workflow
from flomation.launch.models import Trigger, TriggerKind
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
}


@dataclass(frozen=True)
class ListedTrigger:
    trigger: Trigger
    url: str  # the public address, "" for schedules and pollers
    next_fire_times: list[datetime] = field(default_factory=list)


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


def triggers_for_workflow(
    *, workflow: Workflow, environment: Environment | None = None
) -> list[ListedTrigger]:
    """The workflow's active triggers (in one environment, or all), each with its URL and next fire times."""
    triggers = Trigger.objects.filter(workflow=workflow, active=True).order_by(
        "environment__position", "node_id"
    )
    if environment is not None:
        triggers = triggers.filter(environment=environment)
    return [
        ListedTrigger(
            trigger=trigger,
            url=trigger_url(trigger),
            next_fire_times=trigger_next_fire_times(trigger=trigger),
        )
        for trigger in triggers
    ]


def trigger_run_token(*, trigger: Trigger) -> str:
    """The manual-run token, for the workflow's editors only (callers check permissions)."""
    if not trigger.run_token_ciphertext:
        return ""
    return crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, trigger.run_token_ciphertext)
