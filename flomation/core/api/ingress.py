"""Trigger ingress: launch, running apart from the API, creates the executions its triggers fire.

`POST /api/v1/organisations/{org}/workflows/{workflow_id}/executions` takes the trigger's environment,
deployment, type and data, and an `Idempotency-Key`. It is for machines: only a personal API token
(`flo_...`, scoped to one organisation) is accepted, and the token's owner needs `flow.execute`. Unlike
run now, the trigger data is stored as given (launch has already checked it against the trigger).
Launch reads the outcome back with the execution detail endpoint (`GET .../executions/{id}/`).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.authentication import ApiTokenAuthentication
from flomation.core.api.base import OrganisationView, validated
from flomation.core.api.executions import IDEMPOTENCY, created_response
from flomation.core.api.serializers.executions import ExecutionDetailSerializer
from flomation.core.executions.create import execution_create
from flomation.core.selectors import workflows as sel_workflows
from flomation.core.selectors.environments import environment_get


class TriggerExecutionSerializer(serializers.Serializer):
    environment_id = serializers.UUIDField()
    deployment_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="the deployment the trigger came from; none: the current one",
    )
    trigger_type = serializers.RegexField(r"^[a-z][a-z0-9_]{0,31}$", help_text="webhook, form, schedule, ...")
    trigger_data = serializers.JSONField(required=False, default=dict)

    def validate_trigger_data(self, value: object) -> object:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Give a JSON object.")
        return value


class TriggerExecutionView(OrganisationView):
    authentication_classes = [ApiTokenAuthentication]
    permissions = {"POST": "flow.execute"}

    @extend_schema(
        tags=["executions"],
        request=TriggerExecutionSerializer,
        responses={201: ExecutionDetailSerializer, 200: ExecutionDetailSerializer},
        parameters=[IDEMPOTENCY],
        summary="Trigger ingress (launch)",
        description="Creates an execution of the workflow's deployment in an environment for a trigger "
        "that fired. API tokens only. 200 when the Idempotency-Key matched an earlier execution.",
    )
    def post(self, request: Request, org_id: str, workflow_id: str) -> Response:
        data = validated(TriggerExecutionSerializer, request.data)
        workflow = sel_workflows.workflow_get(organisation=self.organisation, workflow_id=workflow_id)
        environment = environment_get(organisation=self.organisation, environment_id=data["environment_id"])
        deployment = None
        if data.get("deployment_id"):
            deployment = sel_workflows.deployment_get(
                workflow=workflow, environment_id=environment.id, deployment_id=data["deployment_id"]
            )
        created = execution_create(
            workflow=workflow,
            trigger_type=data["trigger_type"],
            trigger_data=data["trigger_data"],
            environment=environment,
            deployment=deployment,
            created_by=self.account,
            idempotency_key=(request.headers.get("Idempotency-Key") or "")[:200] or None,
        )
        return created_response(created)
