"""Pages reached from email: create an account, verify it, reset a password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def _set_password_page(
    request: HttpRequest,
    *,
    load: Callable[[], EmailLink],
    purpose: str,
    complete: Callable[[dict[str, Any]], User],
) -> HttpResponse:
    """The page behind an emailed link: GET shows the set-password form (without using the link up); a
    valid POST hands the form's data to `complete`, which uses the link up, and logs the user in."""
    try:
        link = load()
    except LinkInvalid as exc:
        return _link_page(request, "link_invalid.html", {"error": str(exc)}, 400)
    mfa = purpose == "reset" and link.user.mfa_enabled  # a reset still asks for the second factor
    context = {"email": link.user.email, "purpose": purpose, "error": "", "mfa": mfa}
    if request.method == "GET":
        return _link_page(request, "set_password.html", context)
    form = SetPasswordForm(request.POST)
    if not form.is_valid():
        return _link_page(request, "set_password.html", {**context, "error": first_error(form)}, 400)
    try:
        user = complete(form.cleaned_data)
    except LinkInvalid as exc:
        return _link_page(request, "link_invalid.html", {"error": str(exc)}, 400)
    except IdentityError as exc:
        return _link_page(request, "set_password.html", {**context, "error": str(exc)}, exc.status)
    return _log_in(request, user)


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, secret: str) -> HttpResponse:
    """The verification link: set a password, and the account is verified."""
    return _set_password_page(
        request,
        load=lambda: links.link_get(secret=secret, purpose=EmailLink.Purpose.VERIFY),
        purpose="verify",
        complete=lambda data: accounts.email_verify_complete(
            secret=secret, password=data["password"], display_name=data["display_name"]
        ),
    )


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
    return _set_password_page(
        request,
        load=lambda: accounts.password_reset_link(secret=secret),
        purpose="reset",
        complete=lambda data: accounts.password_reset_complete(
            secret=secret, password=data["password"], code=data["code"]
        ),
    )
