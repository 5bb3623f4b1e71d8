"""OpenAPI pieces drf-spectacular cannot guess: the API token scheme and named enums (identity's
token scheme is registered by identity, flomation.identity.schema).

Imported by flomation.core.api.urls so the extensions are registered before a schema is generated.
"""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
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


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "flomation.core.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, `flo_...`, created under /organisations/{id}/tokens/.",
        }


# The urlconf the schema is generated from: the REST API only (identity and the runner protocol
# document themselves).
urlpatterns = [path("api/v1/", include("flomation.core.api.urls"))]
