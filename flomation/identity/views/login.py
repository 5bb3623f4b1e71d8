"""The login pages: email, password, one-time code, logout."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods, require_POST

from flomation.identity import conf
from flomation.identity.authentication import authenticate_request
from flomation.identity.errors import IdentityError, InvalidEmail, Throttled
from flomation.identity.forms import CodeForm, EmailForm, LoginForm, first_error
from flomation.identity.models import Session, User
from flomation.identity.selectors import user_get
from flomation.identity.services import accounts, sessions
from flomation.identity.tokens import TokenError
from flomation.identity.views.common import (
    browser_identity,
    client_address,
    login_destination,
    page,
    redirect_allowed,
    redirect_problem,
    token_cookie_clear,
    token_cookie_set,
)

_TICKET_SALT = "flomation.identity.mfa-ticket"


def _password_fingerprint(user: User) -> str:
    """Binds an MFA ticket to the password it was earned with: a password change voids the ticket."""
    return hashlib.sha256(user.password.encode()).hexdigest()[:16]


def _safe(redirect_url: str | None) -> str:
    """A redirect_url worth carrying through the forms ('' when it is not allowed)."""
    return redirect_url if redirect_url and redirect_allowed(redirect_url) else ""


def _finish(request: HttpRequest, user: User, redirect_url: str) -> HttpResponse:
    _, token = accounts.login_complete(
        user=user,
        method=Session.Method.BROWSER,
        ip_address=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return token_cookie_set(HttpResponseRedirect(login_destination(redirect_url)), token)


def _with_retry_after(response: HttpResponse, error: IdentityError) -> HttpResponse:
    if isinstance(error, Throttled):
        response["Retry-After"] = str(error.retry_after)
    return response


def _password_page(request: HttpRequest, email: str, redirect_url: str, error: str = "", status: int = 200):
    context = {
        "email": email,
        "redirect_url": redirect_url,
        "error": error,
        "first_account": not accounts.platform_has_accounts(),
    }
    return page(request, "password.html", context, status=status)


@require_http_methods(["GET", "POST"])
def authenticate(request: HttpRequest) -> HttpResponse:
    """Step 1: the email. Every address goes on to the same page (password, or create an account)."""
    problem = redirect_problem(request.GET.get("redirect_url") or request.POST.get("redirect_url"))
    if problem:
        return page(request, "authenticate.html", {"redirect_url": "", "error": problem}, 400)
    if request.method == "GET":
        redirect_url = _safe(request.GET.get("redirect_url"))
        if browser_identity(request)[0] is not None:  # already logged in: straight on
            return HttpResponseRedirect(login_destination(redirect_url))
        return page(request, "authenticate.html", {"redirect_url": redirect_url, "error": ""})
    form = EmailForm(request.POST)
    redirect_url = _safe(request.POST.get("redirect_url"))
    if not form.is_valid():
        return page(
            request, "authenticate.html", {"redirect_url": redirect_url, "error": first_error(form)}, 400
        )
    try:
        email = accounts.email_clean(email=form.cleaned_data["email"])
    except InvalidEmail as exc:
        context = {"redirect_url": redirect_url, "error": str(exc), "email": form.cleaned_data["email"]}
        return page(request, "authenticate.html", context, 400)
    return _password_page(request, email, redirect_url)


@require_POST
def login(request: HttpRequest) -> HttpResponse:
    """Step 2: the password; then step 3 when the account has MFA on, else the session starts."""
    form = LoginForm(request.POST)
    redirect_url = _safe(request.POST.get("redirect_url"))
    if not form.is_valid():
        return _password_page(
            request, request.POST.get("email", "")[:254], redirect_url, first_error(form), 400
        )
    email = form.cleaned_data["email"]
    try:
        user = accounts.login_password(
            email=email, password=form.cleaned_data["password"], ip_address=client_address(request)
        )
    except IdentityError as exc:
        return _with_retry_after(
            _password_page(request, email.strip().lower(), redirect_url, str(exc), exc.status), exc
        )
    if user.mfa_enabled:
        ticket = signing.dumps({"u": str(user.id), "p": _password_fingerprint(user)}, salt=_TICKET_SALT)
        return page(request, "code.html", {"ticket": ticket, "redirect_url": redirect_url, "error": ""})
    return _finish(request, user, redirect_url)


@require_POST
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 3: the one-time code (TOTP or recovery code), with the ticket that step 2 handed out."""
    form = CodeForm(request.POST)
    redirect_url = _safe(request.POST.get("redirect_url"))
    restart = {"redirect_url": redirect_url, "error": "The login took too long or was changed. Start again."}
    if not form.is_valid():
        if request.POST.get("ticket"):
            context = {
                "ticket": request.POST["ticket"],
                "redirect_url": redirect_url,
                "error": first_error(form),
            }
            return page(request, "code.html", context, 400)
        return page(request, "authenticate.html", restart, 400)
    try:
        claims = signing.loads(
            form.cleaned_data["ticket"], salt=_TICKET_SALT, max_age=conf.mfa_ticket_lifetime()
        )
    except signing.BadSignature:
        return page(request, "authenticate.html", restart, 400)
    user = user_get(user_id=claims.get("u"))
    if user is None or _password_fingerprint(user) != claims.get("p") or not user.mfa_enabled:
        return page(request, "authenticate.html", restart, 400)
    try:
        accounts.login_second_factor(
            user=user, code=form.cleaned_data["code"], ip_address=client_address(request)
        )
    except IdentityError as exc:
        context = {"ticket": form.cleaned_data["ticket"], "redirect_url": redirect_url, "error": str(exc)}
        return _with_retry_after(page(request, "code.html", context, exc.status), exc)
    return _finish(request, user, redirect_url)


@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation (a link cannot log anyone out); POST ends the session and the cookie."""
    if request.method == "GET":
        return page(request, "logout.html")
    try:
        identity, _ = authenticate_request(request)
    except TokenError:
        identity = None
    if identity is not None and identity.token_id:
        sessions.session_revoke(user_id=identity.user_id, session_id=identity.token_id)
    return token_cookie_clear(HttpResponseRedirect(settings.AUTH_LOGOUT_REDIRECT))
