"""Executions: run now, list and filter, detail with steps, cancel, re-run, resume."""

from __future__ import annotations

import threading

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView, validated
from flomation.core.api.params import query_datetime, query_int
from flomation.core.api.serializers import executions as s
from flomation.core.api.workflows import WorkflowView
from flomation.core.executions import control as svc
from flomation.core.executions.create import Created
from flomation.core.models import Execution, ExecutionState
from flomation.core.selectors import executions as sel
from flomation.core.selectors import workflows as sel_workflows
from flomation.core.selectors.environments import environment_by_id_or_name

TAG = ["executions"]
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="a retry with the same key creates nothing new",
)


_new_executions = threading.local()


def created_response(created: Created, code_if_new: int = status.HTTP_201_CREATED) -> Response:
    """The answer to a request that created (or, by idempotency key, found) an execution."""
    if created.created:
        # The execution as it was stored, with the workflow, revision and environment it was made from: a
        # new execution has no steps yet, so nothing needs reading back. Building a serializer's fields
        # costs more than using them, so each thread keeps one for new executions.
        serializer = getattr(_new_executions, "serializer", None)
        if serializer is None:
            serializer = s.ExecutionDetailSerializer(context={"steps": []})
            _new_executions.serializer = serializer
        return Response(serializer.to_representation(created.execution), status=code_if_new)
    execution = Execution.objects.select_related("workflow", "environment", "revision").get(
        id=created.execution.id
    )
    return Response(s.ExecutionDetailSerializer(execution).data, status=status.HTTP_200_OK)


class RunNowView(WorkflowView):
    permissions = {"POST": "flow.execute"}

    @extend_schema(
        tags=TAG,
        request=s.RunNowSerializer,
        responses={201: s.ExecutionDetailSerializer, 200: s.ExecutionDetailSerializer},
        parameters=[IDEMPOTENCY],
        summary="Run now",
        description="Inputs are checked against the manual trigger's input schema. 200 when the "
        "Idempotency-Key matched an earlier run.",
    )
    def post(self, request: Request, org_id: str, workflow_id: str) -> Response:
        data = validated(s.RunNowSerializer, request.data or {})
        environment = data.get("environment")
        if environment:  # the environment's deployed revision runs
            workflow = sel_workflows.workflow_get(organisation=self.organisation, workflow_id=workflow_id)
            latest = None
        else:  # a test run of the latest revision
            workflow, latest = sel_workflows.workflow_get_latest(
                organisation=self.organisation, workflow_id=workflow_id
            )
        created = svc.execution_run_now(
            workflow=workflow,
            latest_revision=latest,
            environment=environment_by_id_or_name(organisation=self.organisation, value=environment)
            if environment
            else None,
            inputs=data.get("inputs"),
            created_by=self.account,
            idempotency_key=(request.headers.get("Idempotency-Key") or "")[:200] or None,
            node_id=data.get("node_id"),
        )
        return created_response(created)


class ExecutionView(OrganisationView):
    def execution(self, execution_id: str) -> Execution:
        return sel.execution_get(organisation=self.organisation, execution_id=execution_id)


class ExecutionListView(ExecutionView):
    permissions = {"GET": "execution.view"}

    @extend_schema(
        tags=TAG,
        responses=s.ExecutionSerializer(many=True),
        parameters=[
            OpenApiParameter("workflow", OpenApiTypes.UUID),
            OpenApiParameter("environment", OpenApiTypes.UUID),
            OpenApiParameter("status", str, description="one or more states, comma-separated"),
            OpenApiParameter("trigger_type", str),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
        ],
    )
    def get(self, request: Request, org_id: str) -> Response:
        params = request.query_params
        states = [v for v in (params.get("status") or "").split(",") if v]
        unknown = sorted(set(states) - set(ExecutionState.values))
        if unknown:
            raise exceptions.ValidationError(
                {
                    "status": f"Unknown status {', '.join(unknown)}; choose from {', '.join(ExecutionState.values)}."
                }
            )
        dates = {
            name: moment
            for name in ("created_after", "created_before")
            if (moment := query_datetime(params, name)) is not None
        }
        rows = sel.execution_list(
            organisation=self.organisation,
            workflow_id=params.get("workflow") or None,
            environment_id=params.get("environment") or None,
            state=states or None,
            trigger_type=params.get("trigger_type") or None,
            **dates,
        )
        return self.paginate(rows, s.ExecutionSerializer)


class ExecutionDetailView(ExecutionView):
    permissions = {"GET": "execution.view"}

    @extend_schema(tags=TAG, responses=s.ExecutionDetailSerializer, summary="An execution with its steps")
    def get(self, request: Request, org_id: str, execution_id: str) -> Response:
        return Response(s.ExecutionDetailSerializer(self.execution(execution_id)).data)


class StepListView(ExecutionView):
    permissions = {"GET": "execution.view"}

    @extend_schema(
        tags=TAG,
        responses=s.StepSerializer(many=True),
        parameters=[OpenApiParameter("after", int, description="only steps with a greater id")],
    )
    def get(self, request: Request, org_id: str, execution_id: str) -> Response:
        rows = sel.execution_steps(
            execution=self.execution(execution_id), after=query_int(request.query_params, "after")
        )
        return self.paginate(rows, s.StepSerializer)


class CancelView(ExecutionView):
    permissions = {"POST": "flow.execute"}

    @extend_schema(tags=TAG, request=None, responses=s.ExecutionSerializer, summary="Cancel")
    def post(self, request: Request, org_id: str, execution_id: str) -> Response:
        execution = svc.execution_cancel(execution=self.execution(execution_id))
        return Response(s.ExecutionSerializer(self.execution(str(execution.id))).data)


class RerunView(ExecutionView):
    permissions = {"POST": "flow.execute"}

    @extend_schema(tags=TAG, request=None, responses={201: s.ExecutionDetailSerializer}, summary="Run again")
    def post(self, request: Request, org_id: str, execution_id: str) -> Response:
        return created_response(
            svc.execution_rerun(execution=self.execution(execution_id), created_by=self.account)
        )


class ResumeView(ExecutionView):
    permissions = {"POST": "flow.execute"}

    @extend_schema(tags=TAG, request=s.ResumeSerializer, responses=s.ExecutionSerializer, summary="Resume")
    def post(self, request: Request, org_id: str, execution_id: str) -> Response:
        data = validated(s.ResumeSerializer, request.data or {})
        execution = svc.execution_resume(
            execution=self.execution(execution_id), resume_data=data["resume_data"]
        )
        return Response(s.ExecutionSerializer(self.execution(str(execution.id))).data)
