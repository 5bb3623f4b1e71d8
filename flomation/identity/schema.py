"""How identity's authentication appears in OpenAPI schemas (registered when the app is ready)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class IdentityTokenScheme(OpenApiAuthenticationExtension):
    target_class = "flomation.identity.authentication.FlomationAuthentication"
    name = "identityToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Identity's token (also accepted from the flomation-token cookie).",
        }
