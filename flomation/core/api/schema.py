"""OpenAPI pieces drf-spectacular cannot guess: named enums (the API token scheme is declared beside its
authentication class; identity's token scheme by identity, flomation.identity.schema).

Imported by flomation.core.api.urls so the extensions are registered before a schema is generated.
"""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class NamedEnumField(serializers.ChoiceField):
    """A choice field documented as one named enum component (so `state` of workflows and of
    executions do not collide in the schema)."""

    def __init__(self, *, component: str, choices: Any, **kwargs: Any) -> None:
        self.component = component
        super().__init__(choices=choices, **kwargs)


class NamedEnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedEnumField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        field: NamedEnumField = self.target
        component = ResolvedComponent(
            name=field.component,
            type=ResolvedComponent.SCHEMA,
            object=field.component,
            schema={"type": "string", "enum": list(field.choices)},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


# The urlconf the schema is generated from: the REST API only (identity and the runner protocol
# document themselves).
urlpatterns = [path("api/v1/", include("flomation.core.api.urls"))]
