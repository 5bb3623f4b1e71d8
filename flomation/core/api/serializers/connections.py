from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from flomation.core.models import Connection
from flomation.core.services.connections import connection_public_fields


class ConnectionSerializer(serializers.ModelSerializer):
    """A connection as members see it: secret fields only as {"set": true|false}, never their value."""

    environment = serializers.SerializerMethodField()
    fields = serializers.SerializerMethodField(method_name="public_fields")

    class Meta:
        model = Connection
        fields = ["id", "name", "type", "environment", "fields", "created_at", "updated_at"]

    @extend_schema_field({"type": "object", "nullable": True, "properties": {"id": {}, "name": {}}})
    def get_environment(self, connection: Connection) -> dict[str, Any] | None:
        if connection.environment is None:
            return None
        return {"id": str(connection.environment.id), "name": connection.environment.name}

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def public_fields(self, connection: Connection) -> dict[str, Any]:
        return connection_public_fields(connection=connection)


class ConnectionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    type = serializers.CharField(max_length=64)
    environment = serializers.UUIDField(required=False, allow_null=True, help_text="None: every environment")
    fields = serializers.DictField(required=False, default=dict)


class ConnectionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    environment = serializers.UUIDField(required=False, allow_null=True)
    fields = serializers.DictField(
        required=False, help_text="Merged into the stored fields; a secret field left out is kept."
    )


class ConnectionTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    fields = serializers.ListField(child=serializers.DictField())


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()
