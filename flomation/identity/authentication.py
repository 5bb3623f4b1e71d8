"""The one authentication used by every role, for DRF views and plain Django views alike.

A token comes from `Authorization: Bearer <token>` or the `flomation-token` cookie. TOKEN_VERIFICATION says
how it is verified: `local` checks its signature with AUTH_SECRET and its session in identity's tables
(revocation; identity's database must be reachable), `introspect` asks IDENTITY_SERVICE at
`<identity>/identity/api/user` and reuses an accepted answer for IDENTITY_INTROSPECTION_CACHE_SECONDS.
A process running the identity role verifies locally (flomation.E008 refuses introspection there). A request
authenticated by the cookie must pass CSRF protection for unsafe methods; a Bearer one needs none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework import authentication, exceptions

from flomation.identity.tokens import IdentityUser, TokenError, identity_user_from_claims, token_decode


def _token_from(request: HttpRequest) -> tuple[str | None, str | None]:
    """Returns (token, source) where source is 'bearer' or 'cookie'."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), "bearer"
        return None, None
    cookie = request.COOKIES.get(settings.AUTH_COOKIE_NAME)
    return (cookie, "cookie") if cookie else (None, None)


# Replaced by identity's session check (see flomation.identity.apps); returns True if the session is live.
session_is_active: Callable[[dict[str, Any]], bool] = lambda claims: True  # noqa: E731


def verify_token(token: str) -> IdentityUser:
    """Returns the user a token stands for, or raises TokenError."""
    if settings.TOKEN_VERIFICATION == "local":
        claims = token_decode(token)
        if not session_is_active(claims):
            raise TokenError("The session has ended; log in again.")
        return identity_user_from_claims(claims)
    from flomation.identity.introspection import introspect

    return introspect(token)


def authenticate_request(request: HttpRequest) -> tuple[IdentityUser | None, str | None]:
    """(user, source) for a request, (None, None) when it carries no token; raises TokenError on a bad one."""
    token, source = _token_from(request)
    if token is None:
        return None, None
    return verify_token(token), source


class _CSRFCheck(authentication.CSRFCheck):
    def _reject(self, request: HttpRequest, reason: str) -> str:
        return reason


class FlomationAuthentication(authentication.BaseAuthentication):
    """DRF authentication class; request.user is an IdentityUser."""

    def authenticate(self, request: Any) -> tuple[IdentityUser, str] | None:
        try:
            user, source = authenticate_request(request._request)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if user is None:
            return None
        if source == "cookie":
            self._enforce_csrf(request)
        return user, source or ""

    def _enforce_csrf(self, request: Any) -> None:
        check = _CSRFCheck(lambda req: None)
        check.process_request(request._request)
        reason = check.process_view(request._request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF check failed: {reason}.")

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="flomation"'
