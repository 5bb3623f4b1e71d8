"""Pages reached from email: create an account, verify it, reset a password."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods, require_POST

from flomation.identity.errors import IdentityError, LinkInvalid
from flomation.identity.forms import EmailForm, SetPasswordForm, first_error
from flomation.identity.models import EmailLink, Session, User
from flomation.identity.services import accounts, links
from flomation.identity.views.common import client_address, login_destination, page, token_cookie_set


def _link_page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = page(request, template, context, status)
    response["Referrer-Policy"] = "no-referrer"  # the link's secret is in this page's URL
    return response


def _log_in(request: HttpRequest, user: User) -> HttpResponse:
    _, token = accounts.login_complete(
        user=user,
        method=Session.Method.BROWSER,
        ip_address=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return token_cookie_set(HttpResponseRedirect(login_destination(None)), token)


@require_POST
def register(request: HttpRequest) -> HttpResponse:
    """Create account: the same answer whether or not the address already has an account."""
    form = EmailForm(request.POST)
    if not form.is_valid():
        return page(request, "authenticate.html", {"error": first_error(form)}, 400)
    try:
        accounts.account_register(email=form.cleaned_data["email"])
    except IdentityError as exc:
        return page(
            request, "authenticate.html", {"error": str(exc), "email": form.cleaned_data["email"]}, 400
        )
    return page(request, "check_email.html", {"email": form.cleaned_data["email"].strip().lower()})


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, secret: str) -> HttpResponse:
    """The verification link: shows the set-password form (GET does not use the link up)."""
    try:
        link = links.link_get(secret=secret, purpose=EmailLink.Purpose.VERIFY)
    except LinkInvalid as exc:
        return _link_page(request, "link_invalid.html", {"error": str(exc)}, 400)
    context = {"email": link.user.email, "purpose": "verify", "error": "", "mfa": False}
    if request.method == "GET":
        return _link_page(request, "set_password.html", context)
    form = SetPasswordForm(request.POST)
    if not form.is_valid():
        return _link_page(request, "set_password.html", {**context, "error": first_error(form)}, 400)
    try:
        user = accounts.email_verify_complete(
            secret=secret,
            password=form.cleaned_data["password"],
            display_name=form.cleaned_data["display_name"],
        )
    except LinkInvalid as exc:
        return _link_page(request, "link_invalid.html", {"error": str(exc)}, 400)
    except IdentityError as exc:
        return _link_page(request, "set_password.html", {**context, "error": str(exc)}, exc.status)
    return _log_in(request, user)


@require_http_methods(["GET", "POST"])
def reset_request(request: HttpRequest) -> HttpResponse:
    """Forgotten password: the same answer whether or not the address has an account."""
    if request.method == "GET":
        return page(request, "reset_request.html", {"email": request.GET.get("email", "")[:254], "error": ""})
    form = EmailForm(request.POST)
    if not form.is_valid():
        return page(request, "reset_request.html", {"error": first_error(form)}, 400)
    try:
        accounts.password_reset_request(email=form.cleaned_data["email"])
    except IdentityError as exc:
        return page(
            request, "reset_request.html", {"error": str(exc), "email": form.cleaned_data["email"]}, 400
        )
    return page(
        request, "check_email.html", {"email": form.cleaned_data["email"].strip().lower(), "reset": True}
    )


@require_http_methods(["GET", "POST"])
def reset_confirm(request: HttpRequest, secret: str) -> HttpResponse:
    """The reset link: a new password, plus a one-time code when MFA is on; then the user is logged in."""
    try:
        link = accounts.password_reset_link(secret=secret)
    except LinkInvalid as exc:
        return _link_page(request, "link_invalid.html", {"error": str(exc)}, 400)
    context = {"email": link.user.email, "purpose": "reset", "error": "", "mfa": link.user.mfa_enabled}
    if request.method == "GET":
        return _link_page(request, "set_password.html", context)
    form = SetPasswordForm(request.POST)
    if not form.is_valid():
        return _link_page(request, "set_password.html", {**context, "error": first_error(form)}, 400)
    try:
        user = accounts.password_reset_complete(
            secret=secret,
            password=form.cleaned_data["password"],
            code=form.cleaned_data["code"],
        )
    except LinkInvalid as exc:
        return _link_page(request, "link_invalid.html", {"error": str(exc)}, 400)
    except IdentityError as exc:
        return _link_page(request, "set_password.html", {**context, "error": str(exc)}, exc.status)
    return _log_in(request, user)
