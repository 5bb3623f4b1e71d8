"""Launch's management API: list and read a workflow's triggers, pause and enable them.

Signed-in callers only (identity's token, `Authorization: Bearer ...`). Reading needs membership of the
trigger's organisation, changing `flow.edit` or `flow.execute`; an outsider is told nothing (404), a
member without the permission gets 403. A trigger's secrets and run token are never answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flomation.core.models import Membership
from flomation.core.permissions import NotFound, PermissionDenied, membership_require
from flomation.core.selectors.environments import environment_by_id_or_name
from flomation.core.selectors.workflows import workflow_get
from flomation.identity.authentication import FlomationAuthentication
from flomation.launch.models import Trigger
from flomation.launch.selectors import (
    ListedTrigger,
    listed_trigger,
    trigger_get,
    triggers_for_workflow,
    workflow_organisation_id,
)
from flomation.launch.services.sync import trigger_set_enabled

# Either permission lets a member pause and resume a trigger.
CHANGE_PERMISSIONS = ("flow.edit", "flow.execute")


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


def _member(request: Request, organisation_id: Any, *, change: bool = False) -> Membership:
    """The caller's membership (NotFound for outsiders); with `change`, one with a change permission."""
    if not change:
        return membership_require(
            account_or_user=request.user, organisation_id=organisation_id, permission=None
        )
    denied: PermissionDenied | None = None
    for permission in CHANGE_PERMISSIONS:
        try:
            return membership_require(
                account_or_user=request.user, organisation_id=organisation_id, permission=permission
            )
        except PermissionDenied as error:
            denied = error
    assert denied is not None
    raise exceptions.PermissionDenied(
        "You need the permission 'flow.edit' or 'flow.execute' in this organisation to pause or enable "
        "a trigger."
    )


def _trigger_schema(name: str, **kwargs: Any) -> serializers.Serializer:
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


TAG = ["launch"]


class LaunchApiView(APIView):
    authentication_classes = [FlomationAuthentication]
    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Http404):
            exc = exceptions.NotFound(str(exc) or "Not found.")
        elif isinstance(exc, PermissionDenied):
            exc = exceptions.PermissionDenied(str(exc))
        return super().handle_exception(exc)

    def trigger(self, request: Request, public_id: str, *, change: bool = False) -> Trigger:
        trigger = trigger_get(public_id=public_id)
        if trigger is None:
            raise NotFound("No such trigger.")
        _member(request, trigger.organisation_id, change=change)
        return trigger


class TriggerListView(LaunchApiView):
    @extend_schema(
        tags=TAG,
        operation_id="launch_triggers_list",
        summary="A workflow's triggers",
        parameters=[
            OpenApiParameter("workflow", OpenApiTypes.UUID, required=True),
            OpenApiParameter("environment", OpenApiTypes.STR, description="id or name"),
        ],
        responses=inline_serializer(
            "LaunchTriggerList", {"results": _trigger_schema("LaunchTriggerItem", many=True)}
        ),
    )
    def get(self, request: Request) -> Response:
        workflow_id = request.query_params.get("workflow") or ""
        if not workflow_id:
            raise exceptions.ValidationError({"detail": "Give the workflow's id: ?workflow=<id>."})
        organisation_id = workflow_organisation_id(workflow_id=workflow_id)
        if organisation_id is None:
            raise NotFound("No such workflow.")
        organisation = _member(request, organisation_id).organisation
        workflow = workflow_get(organisation=organisation, workflow_id=workflow_id)
        name_or_id = request.query_params.get("environment")
        environment = (
            environment_by_id_or_name(organisation=organisation, value=name_or_id) if name_or_id else None
        )
        listed = triggers_for_workflow(workflow=workflow, environment=environment)
        return Response({"results": [trigger_data(item) for item in listed]})


class TriggerDetailView(LaunchApiView):
    @extend_schema(
        tags=TAG,
        operation_id="launch_trigger_get",
        summary="One trigger",
        responses=_trigger_schema("LaunchTrigger"),
    )
    def get(self, request: Request, public_id: str) -> Response:
        return Response(trigger_data(listed_trigger(self.trigger(request, public_id))))


class _TriggerSwitchView(LaunchApiView):
    enabled = True

    def switch(self, request: Request, public_id: str) -> Response:
        """Sets `enabled`; answers the trigger as it now is."""
        trigger = trigger_set_enabled(
            trigger=self.trigger(request, public_id, change=True), enabled=self.enabled
        )
        return Response(trigger_data(listed_trigger(trigger)))


class TriggerPauseView(_TriggerSwitchView):
    enabled = False

    @extend_schema(
        tags=TAG, operation_id="launch_trigger_pause", summary="Pause a trigger", request=None,
        responses=_trigger_schema("LaunchTriggerPaused"),
    )  # fmt: skip
    def post(self, request: Request, public_id: str) -> Response:
        return self.switch(request, public_id)


class TriggerEnableView(_TriggerSwitchView):
    enabled = True

    @extend_schema(
        tags=TAG, operation_id="launch_trigger_enable", summary="Enable a trigger", request=None,
        responses=_trigger_schema("LaunchTriggerEnabled"),
    )  # fmt: skip
    def post(self, request: Request, public_id: str) -> Response:
        return self.switch(request, public_id)
