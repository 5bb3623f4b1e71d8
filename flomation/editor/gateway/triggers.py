"""A workflow's deployed triggers, through launch's selectors and services: addresses, pause and enable,
a schedule's next fire times, a poller's last poll and error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flomation.core import models as core
from flomation.editor.gateway import NotFound
from flomation.launch import selectors as launch
from flomation.launch.services.sync import trigger_set_enabled as launch_set_enabled


@dataclass(frozen=True)
class TriggerCard:
    """What the deploy page shows about one trigger."""

    public_id: str
    title: str
    kind: str
    node: str
    environment: str
    enabled: bool
    url: str
    image: str  # QR codes: the SVG
    pixel: str  # tracking pixels: the GIF's address
    cron: str
    timezone: str
    next_fire_times: list[datetime]
    schedule_error: str
    is_poller: bool
    last_polled_at: datetime | None
    last_error: str

    @property
    def snippet(self) -> str:
        if not self.pixel:
            return ""
        return f'<img src="{self.pixel}" width="1" height="1" alt="" style="display:none">'


def _card(listed: launch.ListedTrigger) -> TriggerCard:
    trigger = listed.trigger
    return TriggerCard(
        public_id=trigger.public_id,
        title=trigger.get_kind_display(),
        kind=trigger.kind,
        node=trigger.node_id,
        environment=trigger.environment.name,
        enabled=trigger.enabled,
        url=listed.url,
        image=listed.urls.get("svg", "") if trigger.kind == "qr" else "",
        pixel=listed.urls.get("gif", "") if trigger.kind == "image" else "",
        cron=listed.cron,
        timezone=listed.timezone,
        next_fire_times=listed.next_fire_times,
        schedule_error=listed.schedule_error,
        is_poller=listed.is_poller,
        last_polled_at=trigger.last_polled_at,
        last_error=trigger.last_error,
    )


def trigger_list(*, workflow: core.Workflow) -> list[TriggerCard]:
    """The workflow's deployed triggers in every environment (the caller has checked the workflow)."""
    return [_card(listed) for listed in launch.triggers_for_workflow(workflow=workflow)]


def trigger_set_enabled(*, workflow: core.Workflow, public_id: str, enabled: bool) -> TriggerCard:
    """Pauses or resumes one of the workflow's triggers (the caller has checked the permission)."""
    trigger = launch.trigger_get(public_id=public_id)
    if trigger is None or trigger.workflow_id != workflow.id or not trigger.active:
        raise NotFound("That trigger is not deployed in this workflow.")
    return _card(launch.listed_trigger(launch_set_enabled(trigger=trigger, enabled=enabled)))
