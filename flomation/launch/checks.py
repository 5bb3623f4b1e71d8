"""System checks for the launch role's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from flomation.launch.remote import launch_api_settings


@register(Tags.security)
def check_launch_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    if "launch" not in settings.FLOMATION_ROLES:
        return []
    problems: list[Error | Warning] = []
    if not settings.FLOMATION_ENCRYPTION_KEYS:
        problems.append(
            Error(
                "The launch role is enabled but FLOMATION_ENCRYPTION_KEY is not set, so trigger secrets "
                "(API keys, signing secrets, passwords) cannot be stored.",
                hint="Generate one with `python manage.py generate_key` and set FLOMATION_ENCRYPTION_KEY.",
                id="launch.E001",
            )
        )
    url, key = launch_api_settings()
    if url and not key:
        problems.append(
            Warning(
                "LAUNCH_API_URL is set but LAUNCH_API_KEY is not: the API will refuse launch's executions.",
                hint="Create an API token for launch and set LAUNCH_API_KEY.",
                id="launch.W001",
            )
        )
    return problems
