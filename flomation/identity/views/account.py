"""Pages of a logged-in user: account, password change, two-factor authentication, sessions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_POST

from flomation.identity.errors import IdentityError
from flomation.identity.forms import MfaCodeForm, MfaDisableForm, PasswordChangeForm, ProfileForm, first_error
from flomation.identity.models import Session, User
from flomation.identity.selectors import recovery_codes_left, session_list_live
from flomation.identity.services import accounts, mfa, sessions
from flomation.identity.views.common import client_address, login_required, page, token_cookie_set


def _user(request: HttpRequest) -> User:
    return request.identity_user  # type: ignore[attr-defined]


def _account_page(
    request: HttpRequest, message: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {
        "user": user,
        "message": message,
        "error": error,
        "mfa_enabled": user.mfa_enabled,
        "session_count": session_list_live(user=user).count(),
    }
    return page(request, "account.html", context, status)


_DONE = {
    "profile": "Your name is saved.",
    "password": "Your password is changed. Every other session has ended.",
}


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request, message=_DONE.get(request.GET.get("done", ""), ""))


@require_POST
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _account_page(request, error=first_error(form), status=400)
    accounts.user_update_profile(user=_user(request), display_name=form.cleaned_data["display_name"])
    return HttpResponseRedirect("/identity/account?done=profile")


@require_POST
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Every session of the user ends (other browsers, API tokens); this browser gets a new one."""
    form = PasswordChangeForm(request.POST)
    if not form.is_valid():
        return _account_page(request, error=first_error(form), status=400)
    user = _user(request)
    try:
        accounts.password_change(
            user=user,
            current_password=form.cleaned_data["current_password"],
            new_password=form.cleaned_data["password"],
        )
    except IdentityError as exc:
        return _account_page(request, error=str(exc), status=exc.status)
    _, token = sessions.session_create(
        user=user, ip_address=client_address(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
    )
    return token_cookie_set(HttpResponseRedirect("/identity/account?done=password"), token)


def _mfa_page(request: HttpRequest, **extra: Any) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {"mfa_enabled": user.mfa_enabled, "error": "", "codes": None}
    if user.mfa_enabled:
        context["codes_left"] = recovery_codes_left(user=user)
    else:
        seed = mfa.totp_pending_seed(user=user)
        if seed:
            uri = mfa.totp_provisioning_uri(user=user, seed=seed)
            context.update(seed=seed, qr_svg=mfa.totp_qr_svg(uri=uri), uri=uri)
    context.update(extra)
    status = context.pop("status", 200)
    return page(request, "mfa.html", context, status)


@require_GET
@login_required
def mfa_status(request: HttpRequest) -> HttpResponse:
    return _mfa_page(request)


@require_POST
@login_required
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    try:
        mfa.totp_enrol_start(user=_user(request))
    except IdentityError as exc:
        return _mfa_page(request, error=str(exc), status=exc.status)
    return HttpResponseRedirect("/identity/mfa")


@require_POST
@login_required
def mfa_confirm(request: HttpRequest) -> HttpResponse:
    form = MfaCodeForm(request.POST)
    if not form.is_valid():
        return _mfa_page(request, error=first_error(form), status=400)
    user = _user(request)
    try:
        codes = mfa.totp_enrol_confirm(user=user, code=form.cleaned_data["code"])
    except IdentityError as exc:
        return _mfa_page(request, error=str(exc), status=exc.status)
    return _mfa_page(request, codes=codes, mfa_enabled=True, codes_left=len(codes))


@require_POST
@login_required
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    form = MfaCodeForm(request.POST)
    if not form.is_valid():
        return _mfa_page(request, error=first_error(form), status=400)
    try:
        codes = mfa.recovery_codes_regenerate(user=_user(request), code=form.cleaned_data["code"])
    except IdentityError as exc:
        return _mfa_page(request, error=str(exc), status=exc.status)
    return _mfa_page(request, codes=codes, codes_left=len(codes))


@require_POST
@login_required
def mfa_disable(request: HttpRequest) -> HttpResponse:
    form = MfaDisableForm(request.POST)
    if not form.is_valid():
        return _mfa_page(request, error=first_error(form), status=400)
    try:
        mfa.mfa_disable(
            user=_user(request), password=form.cleaned_data["password"], code=form.cleaned_data["code"]
        )
    except IdentityError as exc:
        return _mfa_page(request, error=str(exc), status=exc.status)
    return HttpResponseRedirect("/identity/mfa")


@require_GET
@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    current = str(request.identity_session_id)  # type: ignore[attr-defined]
    rows = [(session, str(session.id) == current) for session in session_list_live(user=_user(request))]
    return page(request, "sessions.html", {"rows": rows, "api_method": Session.Method.API})


@require_POST
@login_required
def session_revoke(request: HttpRequest, session_id: str) -> HttpResponse:
    sessions.session_revoke(user_id=_user(request).id, session_id=session_id)
    return HttpResponseRedirect("/identity/sessions")
