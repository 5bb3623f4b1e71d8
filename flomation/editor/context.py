"""Who is asking and in which organisation: the decorator every editor view goes through.

The identity token (cookie `flomation-token`, or a Bearer header) names the user; the organisation comes
from the `flomation-org` cookie the organisation switcher sets, else the user's first membership. A user
with no organisation is sent to the first-login page that creates one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render

from flomation.core.models import Account, Membership, Organisation
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import translated
from flomation.identity.authentication import authenticate_request
from flomation.identity.tokens import IdentityUser, TokenError

log = logging.getLogger(__name__)

ORG_COOKIE = "flomation-org"
View = Callable[..., HttpResponse]


@dataclass
class Editor:
    user: IdentityUser
    account: Account
    memberships: list[Membership]
    membership: Membership | None
    permissions: frozenset[str] = frozenset()

    @property
    def organisation(self) -> Organisation:
        assert self.membership is not None
        return self.membership.organisation

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def login_url(request: HttpRequest) -> str:
    query = urlencode({"redirect_url": request.build_absolute_uri()})
    return f"{settings.IDENTITY_LOGIN_URL}?{query}"


def _wants_json(request: HttpRequest, json_view: bool) -> bool:
    return (
        json_view
        or "application/json" in request.headers.get("Accept", "")
        or request.content_type == "application/json"
    )


def error_response(request: HttpRequest, message: str, status: int, json_view: bool = False) -> HttpResponse:
    if _wants_json(request, json_view):
        return JsonResponse({"error": message}, status=status)
    editor = getattr(request, "editor", None)
    return render(request, "editor/error.html", {"editor": editor, "message": message}, status=status)


def _choose_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    wanted = request.COOKIES.get(ORG_COOKIE, "")
    for membership in memberships:
        if str(membership.organisation_id) == wanted:
            return membership
    return memberships[0] if memberships else None


def editor_view(
    permission: str = orgs.VIEW, *, json_view: bool = False, needs_organisation: bool = True
) -> Callable[[View], View]:
    """Authenticates, resolves the organisation and checks `permission`; sets request.editor.

    A Refused raised by the view becomes a page (or JSON body) with its message and status.
    """

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                user, _source = authenticate_request(request)
            except TokenError as exc:
                if _wants_json(request, json_view):
                    return JsonResponse({"error": str(exc)}, status=401)
                return HttpResponseRedirect(login_url(request))
            if user is None:
                if _wants_json(request, json_view):
                    return JsonResponse({"error": "Log in to continue."}, status=401)
                return HttpResponseRedirect(login_url(request))
            account = orgs.account_touch(user=user)
            memberships = orgs.memberships_for(account=account)
            membership = _choose_membership(request, memberships)
            permissions = orgs.permissions_of(membership=membership) if membership else frozenset()
            request.editor = Editor(user, account, memberships, membership, permissions)  # type: ignore[attr-defined]
            if needs_organisation:
                if membership is None:
                    if _wants_json(request, json_view):
                        return JsonResponse({"error": "Create an organisation first."}, status=409)
                    return HttpResponseRedirect("/welcome")
                if permission not in permissions:
                    return error_response(
                        request,
                        f"Your role in {membership.organisation.name} ({membership.role}) does not allow that "
                        f"(it needs the permission {permission!r}).",
                        403,
                        json_view,
                    )
            try:
                return view(request, *args, **kwargs)
            except Exception as exc:
                refused = translated(exc)
                if refused is None:
                    raise
                if refused.details and _wants_json(request, json_view):
                    return JsonResponse({"error": refused.message, **refused.details}, status=refused.status)
                return error_response(request, refused.message, refused.status, json_view)

        return inner

    return wrap


def page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    return render(request, template, {"editor": request.editor, **(context or {})}, status=status)  # type: ignore[attr-defined]
