"""Launch's management API: list and read a workflow's triggers, pause and enable them.

Signed-in callers only (identity's token or a personal `flo_` API token, `Authorization: Bearer ...`). Reading needs membership of the
trigger's organisation, changing `flow.edit` or `flow.execute`; an outsider is told nothing (404), a
member without the permission gets 403. A trigger's secrets and run token are never answered.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flomation.core.api.authentication import ApiTokenAuthentication
from flomation.core.models import ApiToken, Membership
from flomation.core.permissions import NotFound, PermissionDenied, membership_require
from flomation.core.selectors.environments import environment_by_id_or_name
from flomation.core.selectors.workflows import workflow_get
from flomation.identity.authentication import FlomationAuthentication
from flomation.launch.models import Trigger
from flomation.launch.selectors import (
    listed_trigger,
    trigger_get,
    triggers_for_workflow,
    workflow_organisation_id,
)
from flomation.launch.services.sync import trigger_set_enabled
from flomation.launch.views.shapes import trigger_data, trigger_schema

# Either permission lets a member pause and resume a trigger.
CHANGE_PERMISSIONS = ("flow.edit", "flow.execute")


def _member(request: Request, organisation_id: Any, *, change: bool = False) -> Membership:
    """The caller's membership (NotFound for outsiders, and for an API token of another organisation);
    with `change`, one with a change permission."""
    token = request.auth if isinstance(request.auth, ApiToken) else None
    if not change:
        return membership_require(
            account_or_user=request.user, organisation_id=organisation_id, permission=None, api_token=token
        )
    denied: PermissionDenied | None = None
    for permission in CHANGE_PERMISSIONS:
        try:
            return membership_require(
                account_or_user=request.user,
                organisation_id=organisation_id,
                permission=permission,
                api_token=token,
            )
        except PermissionDenied as error:
            denied = error
    assert denied is not None
    raise exceptions.PermissionDenied(
        "You need the permission 'flow.edit' or 'flow.execute' in this organisation to pause or enable "
        "a trigger."
    )


TAG = ["launch"]


class LaunchApiView(APIView):
    authentication_classes = [ApiTokenAuthentication, FlomationAuthentication]
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
            "LaunchTriggerList", {"results": trigger_schema("LaunchTriggerItem", many=True)}
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
        responses=trigger_schema("LaunchTrigger"),
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
        responses=trigger_schema("LaunchTriggerPaused"),
    )  # fmt: skip
    def post(self, request: Request, public_id: str) -> Response:
        return self.switch(request, public_id)


class TriggerEnableView(_TriggerSwitchView):
    enabled = True

    @extend_schema(
        tags=TAG, operation_id="launch_trigger_enable", summary="Enable a trigger", request=None,
        responses=trigger_schema("LaunchTriggerEnabled"),
    )  # fmt: skip
    def post(self, request: Request, public_id: str) -> Response:
        return self.switch(request, public_id)
