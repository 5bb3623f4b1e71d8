"""Deployments: deploy, history, rollback, promotion; and the CI deploy endpoint for API tokens."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import ApiView, validated
from flomation.core.api.serializers import workflows as s
from flomation.core.api.workflows import WorkflowView
from flomation.core.permissions import membership_require
from flomation.core.selectors import workflows as sel
from flomation.core.selectors.environments import environment_by_id_or_name
from flomation.core.services import deployments as svc
from flomation.launch.selectors import triggers_for_workflow
from flomation.launch.views.shapes import trigger_data, trigger_schema

TAG = ["deployments"]


class DeployedTriggerListView(WorkflowView):
    """Where a deployed workflow can be triggered, for a CI job that has just deployed it."""

    permissions = {"GET": "flow.view"}

    @extend_schema(
        tags=TAG,
        parameters=[
            OpenApiParameter("environment", OpenApiTypes.STR, description="id or name; default: all")
        ],
        responses=inline_serializer(
            "DeployedTriggerList", {"results": trigger_schema("DeployedTrigger", many=True)}
        ),
        summary="The deployed workflow's triggers, with their URLs (never a secret)",
    )
    def get(self, request: Request, org_id: str, workflow_id: str) -> Response:
        workflow = self.workflow(workflow_id)
        name_or_id = request.query_params.get("environment")
        environment = (
            environment_by_id_or_name(organisation=self.organisation, value=name_or_id)
            if name_or_id
            else None
        )
        listed = triggers_for_workflow(workflow=workflow, environment=environment)
        return Response({"results": [trigger_data(item) for item in listed]})


class DeploymentListView(WorkflowView):
    permissions = {"GET": "flow.view", "POST": "flow.deploy"}

    @extend_schema(
        tags=TAG,
        responses=s.DeploymentSerializer(many=True),
        parameters=[OpenApiParameter("environment", OpenApiTypes.UUID)],
        summary="Deployment history (who, when, notes)",
    )
    def get(self, request: Request, org_id: str, workflow_id: str) -> Response:
        rows = sel.deployment_list(
            workflow=self.workflow(workflow_id),
            environment_id=request.query_params.get("environment") or None,
        )
        return self.paginate(rows, s.DeploymentSerializer)

    @extend_schema(
        tags=TAG, request=s.DeploySerializer, responses={201: s.DeploymentSerializer}, summary="Deploy"
    )
    def post(self, request: Request, org_id: str, workflow_id: str) -> Response:
        workflow = self.workflow(workflow_id)
        data = validated(s.DeploySerializer, request.data)
        deployment = svc.workflow_deploy(
            workflow=workflow,
            environment=environment_by_id_or_name(organisation=self.organisation, value=data["environment"]),
            revision_number=data.get("revision"),
            version_tag=data["version_tag"],
            notes=data["notes"],
            deployed_by=self.account,
            activate=data["activate"],
        )
        return Response(s.DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)


class RollbackView(WorkflowView):
    permissions = {"POST": "flow.deploy"}

    @extend_schema(tags=TAG, request=s.RollbackSerializer, responses={201: s.DeploymentSerializer})
    def post(self, request: Request, org_id: str, workflow_id: str) -> Response:
        workflow = self.workflow(workflow_id)
        data = validated(s.RollbackSerializer, request.data)
        deployment = svc.deployment_rollback(
            workflow=workflow,
            environment=environment_by_id_or_name(organisation=self.organisation, value=data["environment"]),
            revision_number=data.get("revision"),
            notes=data["notes"],
            deployed_by=self.account,
        )
        return Response(s.DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)


class PromoteView(WorkflowView):
    permissions = {"POST": "flow.deploy"}

    @extend_schema(tags=TAG, request=s.PromoteSerializer, responses={201: s.DeploymentSerializer})
    def post(self, request: Request, org_id: str, workflow_id: str) -> Response:
        workflow = self.workflow(workflow_id)
        data = validated(s.PromoteSerializer, request.data)
        target = data.get("target")
        deployment = svc.deployment_promote(
            workflow=workflow,
            source=environment_by_id_or_name(organisation=self.organisation, value=data["source"]),
            target=environment_by_id_or_name(organisation=self.organisation, value=target)
            if target
            else None,
            notes=data["notes"],
            deployed_by=self.account,
        )
        return Response(s.DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)


class CiDeployView(ApiView):
    """POST /api/v1/deploy: for CI with a personal API token (the token names the organisation)."""

    @extend_schema(
        tags=TAG,
        request=s.CiDeploySerializer,
        responses={201: s.DeploymentSerializer},
        summary="Deploy from CI",
        description="With `Authorization: Bearer flo_...`; `environment` may be a name such as production.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.CiDeploySerializer, request.data)
        organisation_id = self.api_token.organisation_id if self.api_token else data.get("organisation")
        if organisation_id is None:
            raise exceptions.ValidationError({"organisation": "Give the organisation, or use an API token."})
        membership = membership_require(
            account_or_user=self.account,
            organisation_id=organisation_id,
            permission="flow.deploy",
            api_token=self.api_token,
        )
        organisation = membership.organisation
        deployment = svc.workflow_deploy(
            workflow=sel.workflow_get(organisation=organisation, workflow_id=data["workflow"]),
            environment=environment_by_id_or_name(organisation=organisation, value=data["environment"]),
            revision_number=data.get("revision"),
            version_tag=data["version_tag"],
            notes=data["notes"],
            deployed_by=self.account,
            activate=data["activate"],
        )
        return Response(s.DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)
