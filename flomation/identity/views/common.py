"""What identity's browser views share: the caller's address, safe redirects, the token cookie."""

from __future__ import annotations

import functools
from collections.abc import Callable
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from flomation.identity import conf
from flomation.identity.authentication import authenticate_request
from flomation.identity.models import User
from flomation.identity.selectors import user_get
from flomation.identity.tokens import IdentityUser, TokenError


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR, or the last X-Forwarded-For hop behind a trusted TLS proxy."""
    candidate = request.META.get("REMOTE_ADDR", "")
    if conf.trust_forwarded_for():
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            candidate = forwarded.split(",")[-1].strip()
    try:
        return str(ip_address(candidate))
    except ValueError:
        return None


def _origin(url: str) -> str | None:
    """scheme://host:port of an http(s) URL; None for anything else, a malformed URL included (a port
    that is not a number, `http://a:abc/`, or a broken IPv6 address)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        return None
    default_port = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{parts.hostname.lower()}:{port or default_port}"


def redirect_allowed(url: str) -> bool:
    """True for a path on this site, or a URL whose origin is on AUTH_ALLOWED_REDIRECTS (or is the
    login/logout redirect's origin). Everything else is refused: never an open redirect."""
    if not url or any(ch in url for ch in "\\\r\n\t\x00") or url != url.strip():
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: not a URL, so not an allowed one
        return False
    if not parts.scheme and not parts.netloc:
        return url.startswith("/") and not url.startswith("//")
    origin = _origin(url)
    if origin is None:
        return False
    allowed = [
        *settings.AUTH_ALLOWED_REDIRECTS,
        settings.AUTH_LOGIN_REDIRECT,
        settings.AUTH_LOGOUT_REDIRECT,
        getattr(settings, "API_URL", ""),  # the operators' admin, when identity runs apart from it
    ]
    return origin in {_origin(item) for item in allowed if item}


def redirect_problem(url: str | None) -> str:
    """Why `url` is not a URL at all ('' when it is one, or is empty): a port that is not a number, a broken
    IPv6 address. A well-formed URL that is merely not allowed is no problem here: it is dropped."""
    if not url:
        return ""
    try:
        urlsplit(url).port  # noqa: B018 - parsing the port is the check
    except ValueError as error:
        return f"redirect_url is not a valid URL ({error}). Open the login page again from the application."
    return ""


def login_destination(redirect_url: str | None) -> str:
    return redirect_url if redirect_url and redirect_allowed(redirect_url) else settings.AUTH_LOGIN_REDIRECT


def token_cookie_set(response: HttpResponse, token: str) -> HttpResponse:
    response.set_cookie(
        settings.AUTH_COOKIE_NAME,
        token,
        max_age=int(settings.AUTH_TOKEN_LIFETIME),
        domain=settings.AUTH_COOKIE_DOMAIN,
        secure=settings.AUTH_COOKIE_SECURE,
        httponly=settings.AUTH_COOKIE_HTTP_ONLY,
        samesite=settings.AUTH_COOKIE_SAMESITE,
        path="/",
    )
    return response


def token_cookie_clear(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(
        settings.AUTH_COOKIE_NAME,
        path="/",
        domain=settings.AUTH_COOKIE_DOMAIN,
        samesite=settings.AUTH_COOKIE_SAMESITE,
    )
    return response


def browser_identity(request: HttpRequest) -> tuple[User | None, IdentityUser | None]:
    """The logged-in user of a request (cookie or Bearer) and its token's identity, or (None, None)."""
    try:
        identity, _ = authenticate_request(request)
    except TokenError:
        return None, None
    if identity is None:
        return None, None
    user = user_get(user_id=identity.user_id)
    return (user, identity) if user is not None else (None, None)


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sends a visitor without a live session to the login page, back here afterwards."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user, identity = browser_identity(request)
        if user is None or identity is None:
            query = urlencode({"redirect_url": request.get_full_path()})
            response = HttpResponseRedirect(f"/identity/authenticate?{query}")
            if request.COOKIES.get(settings.AUTH_COOKIE_NAME):
                token_cookie_clear(response)
            return response
        request.identity_user = user  # type: ignore[attr-defined]
        request.identity_session_id = identity.token_id  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    response = render(request, f"identity/{template}", context or {}, status=status)
    response["Cache-Control"] = "no-store"
    return response
