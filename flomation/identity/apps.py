from __future__ import annotations

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """Sentinel: users, login, MFA, sessions and tokens."""

    name = "flomation.identity"
    label = "identity"
    verbose_name = "Identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from flomation.identity import authentication, schema  # noqa: F401  (schema registers itself)
        from flomation.identity.selectors import session_is_live

        # A token is honoured only while its session row is live (not revoked, not expired, user active).
        authentication.session_is_active = session_is_live

        from flomation.identity.services.sessions import sessions_revoke_on_credentials_revoked
        from flomation.identity.signals import credentials_revoked

        credentials_revoked.connect(sessions_revoke_on_credentials_revoked, dispatch_uid="identity.sessions")
