"""How a trigger is described over HTTP, by launch's management API and by the platform API (`/api/v1/`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from flomation.launch.selectors import ListedTrigger


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def trigger_data(listed: ListedTrigger) -> dict[str, Any]:
    """The API's view of a trigger: what it is, where it answers, its state; never a secret."""
    trigger = listed.trigger
    deployment = trigger.deployment
    data: dict[str, Any] = {
        "id": trigger.public_id,
        "workflow": str(trigger.workflow_id),
        "node_id": trigger.node_id,
        "action": trigger.action,
        "kind": trigger.kind,
        "url": listed.url or None,
        "urls": listed.urls,
        "enabled": trigger.enabled,
        "active": trigger.active,
        "environment": {"id": str(trigger.environment_id), "name": trigger.environment.name},
        "revision": deployment.revision.number if deployment else None,
        "schedule": None,
        "poller": None,
        "last_fired_at": _time(trigger.last_fired_at),
    }
    if trigger.kind == "schedule":
        data["schedule"] = {
            "cron": listed.cron or None,
            "timezone": listed.timezone or None,
            "next_fire_times": [_time(at) for at in listed.next_fire_times],
            "error": listed.schedule_error or trigger.last_error or None,
        }
    elif listed.is_poller:
        data["poller"] = {
            "last_polled_at": _time(trigger.last_polled_at),
            "last_error": trigger.last_error or None,
            "next_poll_at": _time(trigger.next_run_at) if trigger.enabled else None,
        }
    return data


def trigger_schema(name: str, **kwargs: Any) -> serializers.Serializer:
    """The OpenAPI description of trigger_data()'s answer."""
    return inline_serializer(
        name,
        {
            "id": serializers.CharField(),
            "workflow": serializers.UUIDField(),
            "node_id": serializers.CharField(),
            "action": serializers.CharField(),
            "kind": serializers.CharField(),
            "url": serializers.URLField(allow_null=True),
            "urls": serializers.DictField(child=serializers.URLField()),
            "enabled": serializers.BooleanField(),
            "active": serializers.BooleanField(),
            "environment": serializers.DictField(child=serializers.CharField()),
            "revision": serializers.IntegerField(allow_null=True),
            "schedule": serializers.DictField(allow_null=True),
            "poller": serializers.DictField(allow_null=True),
            "last_fired_at": serializers.DateTimeField(allow_null=True),
        },
        **kwargs,
    )
