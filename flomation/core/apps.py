from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    """API: organisations, members, workflows, environments, queues, runners and executions."""

    name = "flomation.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # The flo_ token's OpenAPI extension, for every role whose DRF views accept the token (identity's too).
        from flomation.core.api import schema  # noqa: F401
        from flomation.core.services.tokens import api_tokens_revoke_on_credentials_revoked
        from flomation.identity.signals import credentials_revoked

        # A password change or a deactivation in identity revokes the user's personal API tokens at once. An
        # identity-only process holds no core table: there the tokens' own check (the owner's credentials
        # valid since, read through identity's selector on every use) refuses them instead.
        if settings.CORE_DATABASE:
            credentials_revoked.connect(
                api_tokens_revoke_on_credentials_revoked, dispatch_uid="core.api_tokens"
            )
