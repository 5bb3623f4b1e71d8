"""A workflow's deployed triggers, through launch's selectors and services: addresses, pause and enable,
a schedule's next fire times, a poller's last poll and error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from flomation.core import models as core
from flomation.editor.gateway import NotFound, Refused
from flomation.launch import selectors as launch
from flomation.launch.models import TestListen
from flomation.launch.schedules import ScheduleError, next_fire_times, schedule_from_config
from flomation.launch.services import test_events
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


def schedule_preview(*, config: dict[str, Any], count: int = 5) -> dict[str, Any]:
    """A schedule's cron expression, time zone and next `count` fire times (ISO 8601 and local wall time),
    from a schedule trigger's settings as the panel holds them; Refused with launch's message if invalid."""
    try:
        schedule = schedule_from_config(config)
        times = next_fire_times(schedule, timezone.now(), count)
    except ScheduleError as exc:
        raise Refused(str(exc)) from None
    return {
        "cron": schedule.expression,
        "timezone": str(schedule.zone),
        "next_fire_times": [
            {"iso": t.isoformat(), "local": t.astimezone(schedule.zone).strftime("%a %d %b %Y %H:%M %Z")}
            for t in times
        ],
    }


def _listen_answer(listen: TestListen, token: str = "") -> dict[str, Any]:
    expired = listen.captured is None and listen.expires_at <= timezone.now()
    answer: dict[str, Any] = {
        "id": str(listen.id),
        "node_id": listen.node_id,
        "state": "captured" if listen.captured is not None else "expired" if expired else "listening",
        "expires_at": listen.expires_at.isoformat(),
        "event": listen.captured,
    }
    if token:
        answer["test_url"] = test_events.test_url(listen=listen, token=token)
    return answer


def test_listen_start(*, workflow: core.Workflow, node_id: str, account: core.Account) -> dict[str, Any]:
    """Starts listening for one test request to `node_id`'s test URL; answers the URL and its expiry."""
    flow = (
        workflow.revisions.filter(number=workflow.latest_revision).values_list("flow", flat=True).first()
    ) or {}
    nodes = {str(n.get("id")): n for n in flow.get("nodes", []) if isinstance(n, dict)}
    node = nodes.get(node_id)
    action = str((node or {}).get("type") or ((node or {}).get("data") or {}).get("label") or "")
    if not action.startswith("trigger/"):
        raise Refused("Save the flow with this trigger node first; only trigger nodes have a test URL.", 404)
    listen, token = test_events.test_listen_start(
        organisation=workflow.organisation, workflow=workflow, node_id=node_id, account_id=account.id
    )
    return _listen_answer(listen, token)


def test_listen_get(*, workflow: core.Workflow, listen_id: str, account: core.Account) -> dict[str, Any]:
    """The author's own listening session: listening, captured (with the request) or expired."""
    listen = test_events.test_listen_result(listen_id=listen_id, workflow=workflow, account_id=account.id)
    if listen is None:
        raise NotFound("No such listening session.")
    return _listen_answer(listen)


def production_urls(*, workflow: core.Workflow) -> dict[str, list[dict[str, str]]]:
    """node id -> [{environment, url}] of the workflow's deployed, active triggers that have a URL."""
    urls: dict[str, list[dict[str, str]]] = {}
    for listed in launch.triggers_for_workflow(workflow=workflow):
        if listed.url:
            urls.setdefault(listed.trigger.node_id, []).append(
                {"environment": listed.trigger.environment.name, "url": listed.url}
            )
    return urls
