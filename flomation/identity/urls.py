"""Identity's URLs, with their full paths (mounted at the root when the identity role is enabled)."""

from __future__ import annotations

from django.urls import path

from flomation.identity.views import account, api, links, login

app_name = "identity"

urlpatterns = [
    path("identity/authenticate", login.authenticate, name="authenticate"),
    path("identity/login", login.login, name="login"),
    path("identity/login/code", login.login_code, name="login-code"),
    path("identity/logout", login.logout, name="logout"),
    path("identity/register", links.register, name="register"),
    path("identity/verify/<str:secret>", links.verify, name="verify"),
    path("identity/reset", links.reset_request, name="reset"),
    path("identity/reset/<str:secret>", links.reset_confirm, name="reset-confirm"),
    path("identity/account", account.account, name="account"),
    path("identity/account/profile", account.profile, name="profile"),
    path("identity/account/password", account.password_change, name="password-change"),
    path("identity/mfa", account.mfa_status, name="mfa"),
    path("identity/mfa/enrol", account.mfa_enrol, name="mfa-enrol"),
    path("identity/mfa/confirm", account.mfa_confirm, name="mfa-confirm"),
    path("identity/mfa/recovery-codes", account.mfa_recovery_codes, name="mfa-recovery-codes"),
    path("identity/mfa/disable", account.mfa_disable, name="mfa-disable"),
    path("identity/sessions", account.session_list, name="sessions"),
    path("identity/sessions/<uuid:session_id>/revoke", account.session_revoke, name="session-revoke"),
    path("identity/api/user", api.UserView.as_view(), name="api-user"),
    path("identity/api/token", api.TokenView.as_view(), name="api-token"),
    path("identity/api/sessions", api.SessionListView.as_view(), name="api-sessions"),
    path("identity/api/sessions/<uuid:session_id>", api.SessionDetailView.as_view(), name="api-session"),
]
