from __future__ import annotations

from rest_framework import serializers

from flomation.core.api.serializers.fields import column_integer
from flomation.core.models import Environment, Secret, Variable


class EnvironmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Environment
        fields = ["id", "name", "position", "created_at"]


class EnvironmentWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, required=False)
    position = column_integer(Environment, "position", min_value=0, required=False)


class VariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variable
        fields = ["name", "value", "updated_at"]


class ValueSerializer(serializers.Serializer):
    value = serializers.CharField(allow_blank=True, trim_whitespace=False)


class SecretSerializer(serializers.ModelSerializer):
    """A secret's name and when it changed. Its value is write-only: no field ever carries it out."""

    class Meta:
        model = Secret
        fields = ["name", "updated_at"]
