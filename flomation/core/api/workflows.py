"""Workflows, their revisions, favourites, duplication, import and export."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView, validated
from flomation.core.api.params import column_range, query_int
from flomation.core.api.serializers import workflows as s
from flomation.core.models import Revision, WorkflowState
from flomation.core.selectors import workflows as sel
from flomation.core.selectors.queues import queue_usable
from flomation.core.services import workflows as svc
from flomation.core.services.workflow_exchange import workflow_export, workflow_import
from flomation.executor.secret_inputs import flow_unset_secrets

TAG = ["workflows"]
REVISION_MAX = column_range(Revision, "number")[1]


class WorkflowView(OrganisationView):
    def workflow(self, workflow_id: str):  # noqa: ANN201
        return sel.workflow_get(organisation=self.organisation, workflow_id=workflow_id, account=self.account)

    def respond(self, workflow_id: str, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.WorkflowSerializer(self.workflow(workflow_id)).data, status=code)


def _flag(value: str | None) -> bool | None:
    if value in (None, ""):
        return None
    return value.lower() in ("1", "true", "yes")


class WorkflowListView(WorkflowView):
    permissions = {"GET": "flow.view", "POST": "flow.create"}

    @extend_schema(
        tags=TAG,
        responses=s.WorkflowSerializer(many=True),
        parameters=[
            OpenApiParameter("search", str, description="in name or description"),
            OpenApiParameter("state", str, enum=WorkflowState.values),
            OpenApiParameter("favourite", bool),
            OpenApiParameter("environment", OpenApiTypes.UUID, description="deployed to this environment"),
            OpenApiParameter("ordering", str, enum=sorted(sel.ORDERINGS)),
        ],
    )
    def get(self, request: Request, org_id: str) -> Response:
        params = request.query_params
        rows = sel.workflow_list(
            organisation=self.organisation,
            account=self.account,
            search=params.get("search") or None,
            state=params.get("state") or None,
            favourite=_flag(params.get("favourite")),
            environment_id=params.get("environment") or None,
            ordering=params.get("ordering") or None,
        )
        return self.paginate(rows, s.WorkflowSerializer)

    @extend_schema(tags=TAG, request=s.WorkflowCreateSerializer, responses={201: s.WorkflowSerializer})
    def post(self, request: Request, org_id: str) -> Response:
        data = validated(s.WorkflowCreateSerializer, request.data)
        queue = (
            queue_usable(organisation=self.organisation, queue_id=data["queue"])
            if data.get("queue")
            else None
        )
        workflow = svc.workflow_create(
            organisation=self.organisation,
            name=data["name"],
            description=data["description"],
            flow=data.get("flow"),
            message=data["message"],
            queue=queue,
            created_by=self.account,
        )
        return self.respond(str(workflow.id), status.HTTP_201_CREATED)


class WorkflowDetailView(WorkflowView):
    permissions = {"GET": "flow.view", "PATCH": "flow.edit", "DELETE": "flow.delete"}

    @extend_schema(tags=TAG, responses=s.WorkflowSerializer)
    def get(self, request: Request, org_id: str, workflow_id: str) -> Response:
        return self.respond(workflow_id)

    @extend_schema(
        tags=TAG,
        request=s.WorkflowUpdateSerializer,
        responses=s.WorkflowSerializer,
        description="Change settings; `state` moves the lifecycle (archiving also needs flow.delete).",
    )
    def patch(self, request: Request, org_id: str, workflow_id: str) -> Response:
        workflow = self.workflow(workflow_id)
        data = validated(s.WorkflowUpdateSerializer, request.data)
        state = data.pop("state", None)
        if "queue" in data:
            queue_id = data.pop("queue")
            data["queue"] = (
                queue_usable(organisation=self.organisation, queue_id=queue_id) if queue_id else None
            )
        if data:
            svc.workflow_update(workflow=workflow, **data)
        if state:
            if state == WorkflowState.ARCHIVED:
                from flomation.core.permissions import membership_require

                membership_require(
                    account_or_user=self.account,
                    organisation_id=self.organisation.id,
                    permission="flow.delete",
                    api_token=self.api_token,
                )
            svc.workflow_set_state(workflow=workflow, state=state)
        return self.respond(workflow_id)

    @extend_schema(tags=TAG, responses=s.WorkflowSerializer, summary="Archive a workflow (kept for audit)")
    def delete(self, request: Request, org_id: str, workflow_id: str) -> Response:
        svc.workflow_archive(workflow=self.workflow(workflow_id))
        return self.respond(workflow_id)


class WorkflowDuplicateView(WorkflowView):
    permissions = {"POST": "flow.create"}

    @extend_schema(tags=TAG, request=s.DuplicateSerializer, responses={201: s.WorkflowSerializer})
    def post(self, request: Request, org_id: str, workflow_id: str) -> Response:
        data = validated(s.DuplicateSerializer, request.data or {})
        copy = svc.workflow_duplicate(
            workflow=self.workflow(workflow_id), created_by=self.account, name=data.get("name")
        )
        return self.respond(str(copy.id), status.HTTP_201_CREATED)


class WorkflowFavouriteView(WorkflowView):
    permissions = {"PUT": "flow.view", "DELETE": "flow.view"}

    @extend_schema(tags=TAG, request=None, responses=s.FavouriteSerializer, summary="Mark as a favourite")
    def put(self, request: Request, org_id: str, workflow_id: str) -> Response:
        value = svc.workflow_favourite(
            workflow=self.workflow(workflow_id), account=self.account, favourite=True
        )
        return Response({"is_favourite": value})

    @extend_schema(tags=TAG, responses=s.FavouriteSerializer, summary="Unmark as a favourite")
    def delete(self, request: Request, org_id: str, workflow_id: str) -> Response:
        value = svc.workflow_favourite(
            workflow=self.workflow(workflow_id), account=self.account, favourite=False
        )
        return Response({"is_favourite": value})


class WorkflowExportView(WorkflowView):
    permissions = {"GET": "flow.view"}

    @extend_schema(
        tags=TAG,
        responses=s.ExportSerializer,
        parameters=[OpenApiParameter("revision", int, description="default: latest")],
    )
    def get(self, request: Request, org_id: str, workflow_id: str) -> Response:
        number = query_int(request.query_params, "revision", minimum=1, maximum=REVISION_MAX)
        document = workflow_export(workflow=self.workflow(workflow_id), revision_number=number)
        return Response(document)


class WorkflowImportView(WorkflowView):
    permissions = {"POST": "flow.create"}

    @extend_schema(tags=TAG, request=s.ImportSerializer, responses={201: s.WorkflowSerializer})
    def post(self, request: Request, org_id: str) -> Response:
        data = validated(s.ImportSerializer, request.data)
        workflow = workflow_import(
            organisation=self.organisation,
            document=data["document"],
            created_by=self.account,
            name=data.get("name"),
        )
        response = self.respond(str(workflow.id), status.HTTP_201_CREATED)
        latest = sel.revision_list(workflow=workflow).first()
        unset = flow_unset_secrets(latest.flow) if latest else []
        response.data["secrets_to_set"] = unset
        if unset:
            names = ", ".join(f"{entry['input']} of node {entry['node_id']}" for entry in unset)
            response.data["warnings"] = [
                f"Trigger secrets are never exported, so these are not set: {names}. "
                "Enter them in the editor before deploying."
            ]
        return response


class RevisionListView(WorkflowView):
    permissions = {"GET": "flow.view", "POST": "flow.edit"}

    @extend_schema(tags=TAG, responses=s.RevisionSerializer(many=True))
    def get(self, request: Request, org_id: str, workflow_id: str) -> Response:
        return self.paginate(sel.revision_list(workflow=self.workflow(workflow_id)), s.RevisionSerializer)

    @extend_schema(
        tags=TAG,
        request=s.RevisionCreateSerializer,
        responses={201: s.RevisionDetailSerializer, 200: s.RevisionDetailSerializer},
        summary="Save the flow (a new revision, or autosaves coalesced into the latest)",
        description="The flow is validated; a 400 answer lists each problem with its node and field. "
        "201: a new revision. 200: the latest revision was updated in place (only node positions "
        "changed, or an unnamed save by its author within the coalescing window). 409: `base_revision`/"
        "`base_edits` are older than the latest revision.",
    )
    def post(self, request: Request, org_id: str, workflow_id: str) -> Response:
        workflow = self.workflow(workflow_id)
        data = validated(s.RevisionCreateSerializer, request.data)
        revision = svc.workflow_save(
            workflow=workflow,
            flow=data["flow"],
            author=self.account,
            message=data["message"],
            base_revision=data.get("base_revision"),
            base_edits=data.get("base_edits"),
            seal=data["seal"],
        )
        return Response(
            s.RevisionDetailSerializer(revision).data,
            status=status.HTTP_201_CREATED if revision.created else status.HTTP_200_OK,
        )


class RevisionDetailView(WorkflowView):
    permissions = {"GET": "flow.view"}

    @extend_schema(tags=TAG, responses=s.RevisionDetailSerializer)
    def get(self, request: Request, org_id: str, workflow_id: str, number: int) -> Response:
        revision = sel.revision_get(workflow=self.workflow(workflow_id), number=number)
        return Response(s.RevisionDetailSerializer(revision).data)
