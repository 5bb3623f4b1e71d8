"""Personal API tokens (`Authorization: Bearer flo_...`) for scripts and CI.

Listed before identity's class on the API views: a `flo_` token is ours; anything else (a JWT) is left
to identity. request.user is the token owner's IdentityUser and request.auth the ApiToken.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from flomation.core.models import ApiToken
from flomation.core.services.tokens import TOKEN_PREFIX, api_token_authenticate
from flomation.identity.tokens import IdentityUser


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[IdentityUser, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        value = value.strip()
        # An identity-only process holds no core table, so no personal token can be checked there.
        if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX) or not settings.CORE_DATABASE:
            return None
        token = api_token_authenticate(plaintext=value)
        if token is None:
            raise exceptions.AuthenticationFailed("The API token is not valid, has expired or was revoked.")
        user = IdentityUser(
            user_id=str(token.account_id),
            email=token.account.email,
            display_name=token.account.display_name,
            token_id=f"api:{token.id}",
        )
        return user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="flomation"'


# Declared beside the class so that every schema that lists it (identity's, launch's too) can describe it.
class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "flomation.core.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, `flo_...`, created under /organisations/{id}/tokens/.",
        }
