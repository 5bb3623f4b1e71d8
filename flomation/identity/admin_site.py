"""The operators' admin, whose visitors are identity's logged-in staff: it never checks a password.

Every admin page takes its user from identity's token (the `flomation-token` cookie that identity's login
sets, after its throttle and the one-time code when the account has MFA on), never from a Django session.
`/admin/login/` only sends the visitor to identity's login, with a way back to the admin page they asked
for; a password posted to it is not looked at. `/admin/logout/` ends the identity session.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import logout as django_logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from flomation.identity.services import sessions
from flomation.identity.views.common import (
    browser_identity,
    client_address,
    page,
    redirect_allowed,
    token_cookie_clear,
)

logger = logging.getLogger(__name__)


def _identity_url(name: str, path: str, query: dict[str, str] | None = None) -> str:
    """Identity's page: its path when identity is served by this process, else on IDENTITY_URL."""
    try:
        url = reverse(f"identity:{name}")
    except NoReverseMatch:
        url = settings.IDENTITY_URL.rstrip("/") + path
    return f"{url}?{urlencode(query)}" if query else url


class IdentityAdminSite(admin.AdminSite):
    site_header = "Flomation administration"
    site_title = "Flomation admin"

    def _index_path(self) -> str:
        return reverse("admin:index", current_app=self.name)

    def _user(self, request: HttpRequest) -> Any:
        user, _ = browser_identity(request)
        return user if user is not None else AnonymousUser()

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def with_identity_user(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request.user = self._user(request)
            return inner(request, *args, **kwargs)

        with_identity_user.__dict__.update(inner.__dict__)
        with_identity_user.__wrapped__ = inner  # type: ignore[attr-defined]
        return with_identity_user

    def _back_to(self, request: HttpRequest) -> str:
        """Where the admin visitor wanted to go: a path of this admin, else its index."""
        wanted = request.GET.get("next", "")
        if wanted.startswith(self._index_path()) and redirect_allowed(wanted):
            return wanted
        return self._index_path()

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Sends the visitor to identity's login and back here; GET and POST alike, never a password check."""
        back_to = self._back_to(request)
        if request.method == "POST":
            logger.warning(
                "Admin login form posted from %s: refused; passwords are checked by identity's login only.",
                client_address(request) or "an unknown address",
            )
        user = self._user(request)
        if user.is_authenticated:
            if user.is_active and user.is_staff:
                return HttpResponseRedirect(back_to)
            logger.warning("Admin refused to %s: the account is not a staff account.", user.email)
            context = {"email": user.email, "logout_url": _identity_url("logout", "/identity/logout")}
            return page(request, "admin_refused.html", context, status=403)
        try:
            reverse("identity:authenticate")
            redirect_url = back_to
        except NoReverseMatch:  # identity runs elsewhere: come back to this admin on the API's address
            redirect_url = settings.API_URL.rstrip("/") + back_to
        return HttpResponseRedirect(
            _identity_url("authenticate", "/identity/authenticate", {"redirect_url": redirect_url})
        )

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """POST ends the identity session behind this admin visit and its cookie; GET asks first."""
        if request.method != "POST":
            return HttpResponseRedirect(_identity_url("logout", "/identity/logout"))
        _, identity = browser_identity(request)
        if identity is not None and identity.token_id:
            sessions.session_revoke(user_id=identity.user_id, session_id=identity.token_id)
        django_logout(request)
        return token_cookie_clear(HttpResponseRedirect(settings.AUTH_LOGOUT_REDIRECT))

    def password_change(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Passwords are changed on identity's account page (it asks for the current one, throttled)."""
        return HttpResponseRedirect(_identity_url("account", "/identity/account"))
