"""Queues (with registration codes) and runners."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView, validated
from flomation.core.api.serializers import queues as s
from flomation.core.selectors import queues as sel
from flomation.core.services import queues as svc

TAG = ["queues and runners"]


class QueueListView(OrganisationView):
    permissions = {"GET": "runner.view", "POST": "runner.manage"}

    @extend_schema(tags=TAG, responses=s.QueueSerializer(many=True))
    def get(self, request: Request, org_id: str) -> Response:
        return self.paginate(sel.queue_list(organisation=self.organisation), s.QueueSerializer)

    @extend_schema(tags=TAG, request=s.QueueWriteSerializer, responses={201: s.QueueCreatedSerializer})
    def post(self, request: Request, org_id: str) -> Response:
        data = validated(s.QueueWriteSerializer, request.data)
        parent = (
            sel.queue_get(organisation=self.organisation, queue_id=data["parent"])
            if data.get("parent")
            else None
        )
        queue, code = svc.queue_create(
            organisation=self.organisation, name=data.get("name", ""), parent=parent
        )
        body = s.QueueSerializer(queue).data | {"registration_code": code}
        return Response(body, status=status.HTTP_201_CREATED)


class QueueDetailView(OrganisationView):
    permissions = {"GET": "runner.view", "PATCH": "runner.manage", "DELETE": "runner.manage"}

    @extend_schema(tags=TAG, responses=s.QueueSerializer)
    def get(self, request: Request, org_id: str, queue_id: str) -> Response:
        return Response(
            s.QueueSerializer(sel.queue_get(organisation=self.organisation, queue_id=queue_id)).data
        )

    @extend_schema(tags=TAG, request=s.QueueWriteSerializer, responses=s.QueueSerializer)
    def patch(self, request: Request, org_id: str, queue_id: str) -> Response:
        queue = sel.queue_get(organisation=self.organisation, queue_id=queue_id)
        data = validated(s.QueueWriteSerializer, request.data)
        parent: object = False
        if "parent" in data:
            parent = (
                sel.queue_get(organisation=self.organisation, queue_id=data["parent"])
                if data["parent"]
                else None
            )
        queue = svc.queue_update(queue=queue, name=data.get("name"), parent=parent)  # type: ignore[arg-type]
        return Response(s.QueueSerializer(queue).data)

    @extend_schema(tags=TAG, responses={204: None})
    def delete(self, request: Request, org_id: str, queue_id: str) -> Response:
        svc.queue_delete(queue=sel.queue_get(organisation=self.organisation, queue_id=queue_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegistrationCodeView(OrganisationView):
    permissions = {"GET": "runner.manage", "POST": "runner.manage"}

    @extend_schema(tags=TAG, responses=s.RegistrationCodeSerializer, summary="Show the registration code")
    def get(self, request: Request, org_id: str, queue_id: str) -> Response:
        queue = sel.queue_get(organisation=self.organisation, queue_id=queue_id)
        return Response({"registration_code": svc.queue_registration_code(queue=queue)})

    @extend_schema(tags=TAG, request=None, responses=s.RegistrationCodeSerializer, summary="Rotate the code")
    def post(self, request: Request, org_id: str, queue_id: str) -> Response:
        queue = sel.queue_get(organisation=self.organisation, queue_id=queue_id)
        return Response({"registration_code": svc.queue_rotate_code(queue=queue)})


class RunnerListView(OrganisationView):
    permissions = {"GET": "runner.view"}

    @extend_schema(
        tags=TAG,
        responses=s.RunnerSerializer(many=True),
        parameters=[OpenApiParameter("queue", OpenApiTypes.UUID)],
    )
    def get(self, request: Request, org_id: str) -> Response:
        rows = sel.runner_list(
            organisation=self.organisation, queue_id=request.query_params.get("queue") or None
        )
        return self.paginate(rows, s.RunnerSerializer)


class RunnerDetailView(OrganisationView):
    permissions = {"GET": "runner.view", "PATCH": "runner.manage"}

    @extend_schema(tags=TAG, responses=s.RunnerSerializer)
    def get(self, request: Request, org_id: str, runner_id: str) -> Response:
        return Response(
            s.RunnerSerializer(sel.runner_get(organisation=self.organisation, runner_id=runner_id)).data
        )

    @extend_schema(
        tags=TAG, request=s.RunnerUpdateSerializer, responses=s.RunnerSerializer, summary="Enable or disable"
    )
    def patch(self, request: Request, org_id: str, runner_id: str) -> Response:
        runner = sel.runner_get(organisation=self.organisation, runner_id=runner_id)
        data = validated(s.RunnerUpdateSerializer, request.data)
        return Response(
            s.RunnerSerializer(svc.runner_set_enabled(runner=runner, enabled=data["enabled"])).data
        )
