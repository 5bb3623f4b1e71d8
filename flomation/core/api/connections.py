"""Connections: typed credentials of an organisation. Secret fields are write-only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView, validated
from flomation.core.api.serializers import connections as s
from flomation.core.models import Connection
from flomation.core.selectors import connections as sel
from flomation.core.services import connections as svc

TAG = ["connections"]


class ConnectionTypeListView(OrganisationView):
    permissions = {"GET": "connection.view"}

    @extend_schema(
        tags=TAG, responses=s.ConnectionTypeSerializer(many=True), summary="Types and their fields"
    )
    def get(self, request: Request, org_id: str) -> Response:
        return Response(svc.connection_type_list())


class ConnectionView(OrganisationView):
    def connection(self, connection_id: str) -> Connection:
        return sel.connection_get(organisation=self.organisation, connection_id=connection_id)


class ConnectionListView(ConnectionView):
    permissions = {"GET": "connection.view", "POST": "connection.manage"}

    @extend_schema(tags=TAG, responses=s.ConnectionSerializer(many=True))
    def get(self, request: Request, org_id: str) -> Response:
        rows = sel.connection_list(organisation=self.organisation, type=request.query_params.get("type"))
        return self.paginate(rows, s.ConnectionSerializer)

    @extend_schema(tags=TAG, request=s.ConnectionCreateSerializer, responses={201: s.ConnectionSerializer})
    def post(self, request: Request, org_id: str) -> Response:
        data = validated(s.ConnectionCreateSerializer, request.data)
        connection = svc.connection_create(
            organisation=self.organisation,
            name=data["name"],
            type=data["type"],
            fields=data.get("fields") or {},
            environment_id=data.get("environment"),
        )
        return Response(s.ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)


class ConnectionDetailView(ConnectionView):
    permissions = {"GET": "connection.view", "PATCH": "connection.manage", "DELETE": "connection.manage"}

    @extend_schema(tags=TAG, responses=s.ConnectionSerializer)
    def get(self, request: Request, org_id: str, connection_id: str) -> Response:
        return Response(s.ConnectionSerializer(self.connection(connection_id)).data)

    @extend_schema(tags=TAG, request=s.ConnectionUpdateSerializer, responses=s.ConnectionSerializer)
    def patch(self, request: Request, org_id: str, connection_id: str) -> Response:
        connection = self.connection(connection_id)
        data = validated(s.ConnectionUpdateSerializer, request.data, partial=True)
        changes = {key: data[key] for key in ("name", "fields") if key in data}
        if "environment" in data:
            changes["environment_id"] = data["environment"]
        connection = svc.connection_update(connection=connection, **changes)
        return Response(s.ConnectionSerializer(connection).data)

    @extend_schema(tags=TAG, responses={204: None})
    def delete(self, request: Request, org_id: str, connection_id: str) -> Response:
        svc.connection_delete(connection=self.connection(connection_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestView(ConnectionView):
    permissions = {"POST": "connection.use"}

    @extend_schema(
        tags=TAG,
        request=None,
        responses=s.ConnectionTestSerializer,
        summary="Connect for real (through the organisation's egress policy) and say whether it worked",
    )
    def post(self, request: Request, org_id: str, connection_id: str) -> Response:
        outcome = svc.connection_test(connection=self.connection(connection_id))
        return Response({"ok": outcome.ok, "message": outcome.message})
