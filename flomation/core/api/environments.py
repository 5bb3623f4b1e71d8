"""Environments with their variables and (write-only) secrets."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView, validated
from flomation.core.api.serializers import environments as s
from flomation.core.models import Environment
from flomation.core.permissions import NotFound
from flomation.core.selectors import environments as sel
from flomation.core.services import environments as env_svc
from flomation.core.services import secrets as svc

TAG = ["environments"]


class EnvironmentView(OrganisationView):
    def environment(self, environment_id: str) -> Environment:
        return sel.environment_get(organisation=self.organisation, environment_id=environment_id)


class EnvironmentListView(EnvironmentView):
    permissions = {"GET": "environment.view", "POST": "environment.manage"}

    @extend_schema(tags=TAG, responses=s.EnvironmentSerializer(many=True))
    def get(self, request: Request, org_id: str) -> Response:
        return self.paginate(sel.environment_list(organisation=self.organisation), s.EnvironmentSerializer)

    @extend_schema(tags=TAG, request=s.EnvironmentWriteSerializer, responses={201: s.EnvironmentSerializer})
    def post(self, request: Request, org_id: str) -> Response:
        data = validated(s.EnvironmentWriteSerializer, request.data)
        environment = env_svc.environment_create(
            organisation=self.organisation, name=data.get("name", ""), position=data.get("position")
        )
        return Response(s.EnvironmentSerializer(environment).data, status=status.HTTP_201_CREATED)


class EnvironmentDetailView(EnvironmentView):
    permissions = {"GET": "environment.view", "PATCH": "environment.manage", "DELETE": "environment.manage"}

    @extend_schema(tags=TAG, responses=s.EnvironmentSerializer)
    def get(self, request: Request, org_id: str, environment_id: str) -> Response:
        return Response(s.EnvironmentSerializer(self.environment(environment_id)).data)

    @extend_schema(tags=TAG, request=s.EnvironmentWriteSerializer, responses=s.EnvironmentSerializer)
    def patch(self, request: Request, org_id: str, environment_id: str) -> Response:
        data = validated(s.EnvironmentWriteSerializer, request.data)
        environment = env_svc.environment_update(environment=self.environment(environment_id), **data)
        return Response(s.EnvironmentSerializer(environment).data)

    @extend_schema(tags=TAG, responses={204: None})
    def delete(self, request: Request, org_id: str, environment_id: str) -> Response:
        env_svc.environment_delete(environment=self.environment(environment_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VariableListView(EnvironmentView):
    permissions = {"GET": "environment.view"}

    @extend_schema(tags=TAG, responses=s.VariableSerializer(many=True))
    def get(self, request: Request, org_id: str, environment_id: str) -> Response:
        return self.paginate(
            sel.variable_list(environment=self.environment(environment_id)), s.VariableSerializer
        )


class VariableDetailView(EnvironmentView):
    permissions = {"PUT": "environment.manage", "DELETE": "environment.manage"}

    @extend_schema(
        tags=TAG, request=s.ValueSerializer, responses=s.VariableSerializer, summary="Set a variable"
    )
    def put(self, request: Request, org_id: str, environment_id: str, name: str) -> Response:
        data = validated(s.ValueSerializer, request.data)
        variable = svc.variable_set(
            environment=self.environment(environment_id), name=name, value=data["value"]
        )
        return Response(s.VariableSerializer(variable).data)

    @extend_schema(tags=TAG, responses={204: None})
    def delete(self, request: Request, org_id: str, environment_id: str, name: str) -> Response:
        if not svc.variable_delete(environment=self.environment(environment_id), name=name):
            raise NotFound("No such variable.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecretListView(EnvironmentView):
    permissions = {"GET": "environment.view"}

    @extend_schema(tags=TAG, responses=s.SecretSerializer(many=True), summary="Secret names (never values)")
    def get(self, request: Request, org_id: str, environment_id: str) -> Response:
        return self.paginate(
            sel.secret_list(environment=self.environment(environment_id)), s.SecretSerializer
        )


class SecretDetailView(EnvironmentView):
    permissions = {"PUT": "environment.manage", "DELETE": "environment.manage"}

    @extend_schema(
        tags=TAG, request=s.ValueSerializer, responses=s.SecretSerializer, summary="Set a secret (write-only)"
    )
    def put(self, request: Request, org_id: str, environment_id: str, name: str) -> Response:
        data = validated(s.ValueSerializer, request.data)
        secret = svc.secret_set(environment=self.environment(environment_id), name=name, value=data["value"])
        return Response(s.SecretSerializer(secret).data)

    @extend_schema(tags=TAG, responses={204: None})
    def delete(self, request: Request, org_id: str, environment_id: str, name: str) -> Response:
        if not svc.secret_delete(environment=self.environment(environment_id), name=name):
            raise NotFound("No such secret.")
        return Response(status=status.HTTP_204_NO_CONTENT)
