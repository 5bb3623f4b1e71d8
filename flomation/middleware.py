"""A short middleware chain for stateless public endpoints (webhook ingress).

Sessions, authentication, messages, CSRF and WhiteNoise do nothing for a view that reads no cookie, keeps
no session and renders no page, yet each costs every request some work (about a sixth of the webhook
path's Python time). A view marked with `@stateless` is called straight from here, after SecurityMiddleware
(so HTTPS redirects and security headers still apply), with what it still needs from the rest of the
chain: X-Frame-Options and Content-Length, as XFrameOptionsMiddleware and CommonMiddleware would set.
Every other path goes down the whole chain unchanged; a path of a role that is not enabled does not
resolve here and gets the usual 404 from the full chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.urls import Resolver404, get_resolver

from flomation.unavailable import respond_if_unavailable

View = TypeVar("View", bound=Callable[..., Any])


def stateless(view: View) -> View:
    """Marks a view that reads no session, user, message or CSRF token: StatelessViewMiddleware may call
    it without the rest of the middleware chain. Such a view must be csrf_exempt in its own right."""
    view.stateless = True  # type: ignore[attr-defined]
    return view


class StatelessViewMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if not getattr(match.func, "stateless", False):
            return self.get_response(request)
        request.resolver_match = match
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except Exception as error:
            # Outside the chain, so DatabaseUnavailableMiddleware never sees it: answered here.
            unavailable = respond_if_unavailable(request, error)
            if unavailable is None:
                raise
            response = unavailable
        if not response.has_header("X-Frame-Options"):
            response["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response


NUL_IN_ADDRESS = (
    "The address contains a NUL character (%00), which no path or parameter here can hold; remove it."
)


class RefuseNulInAddressMiddleware:
    """Answers 400 to a request whose path or query string holds a NUL character (%00), for every role.

    PostgreSQL cannot store or compare text with NUL, so a search term or a name carrying one would fail
    in the database (500) wherever a view forgot to check. Bodies are checked by the API's parsers and
    serializers, which know their format.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if "\x00" in request.path or b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
            return JsonResponse({"detail": NUL_IN_ADDRESS}, status=400)
        return self.get_response(request)


class AuditOriginMiddleware:
    """Binds the request's source address and user agent for the audit log, and starts every request with
    no actor (authentication names one), so that nothing of an earlier request on this thread leaks in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from flomation.identity.views.common import client_address
        from flomation.lib.audit_context import Origin, bound

        origin = Origin(client_address(request) or "", request.META.get("HTTP_USER_AGENT", "")[:300])
        with bound(origin=origin):
            return self.get_response(request)
