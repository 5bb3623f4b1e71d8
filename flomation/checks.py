"""System checks with stable ids for combinations of settings that cannot work."""

from __future__ import annotations

import glob
import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    roles = settings.FLOMATION_ROLES
    if not settings.FLOMATION_ENCRYPTION_KEYS and roles & {"api", "identity"}:
        problems.append(
            Error(
                "FLOMATION_ENCRYPTION_KEY is not set, so secrets and MFA seeds cannot be stored.",
                hint="Generate one with `python manage.py generate_key` and set FLOMATION_ENCRYPTION_KEY.",
                id="flomation.E001",
            )
        )
    if roles & {"api", "launch", "editor"} and not (settings.AUTH_SECRET or settings.IDENTITY_SERVICE):
        problems.append(
            Error(
                "A role that authenticates users is enabled but neither AUTH_SECRET nor IDENTITY_SERVICE is set.",
                hint="Share the identity role's AUTH_SECRET, or point IDENTITY_SERVICE at the identity role.",
                id="flomation.E002",
            )
        )
    if "identity" in roles and not settings.AUTH_SECRET:
        problems.append(
            Error("The identity role is enabled but AUTH_SECRET is not set.", id="flomation.E003")
        )
    if "identity" in roles and settings.AUTH_SECRET and len(settings.AUTH_SECRET) < 32:
        problems.append(
            Error(
                "AUTH_SECRET is shorter than 32 characters, too short to sign tokens safely.",
                hint="Use `python manage.py generate_key` for a long random value.",
                id="flomation.E004",
            )
        )
    if (
        "worker" in roles
        and not settings.CELERY_BROKER_URL
        and roles != frozenset({"identity", "api", "launch", "editor", "runner", "worker"})
    ):
        problems.append(
            Warning(
                "The worker role is enabled but CELERY_BROKER_URL is not set: tasks run in the process that "
                "queues them and this worker has nothing to consume.",
                hint="Set CELERY_BROKER_URL to redis://... or amqp://... on every role.",
                id="flomation.W001",
            )
        )
    if "runner" in roles and not settings.RUNNER_SETTINGS_OK:
        problems.append(
            Error(
                "The runner role is enabled on its own but FLOMATION_API or FLOMATION_REGISTRATION_CODE is "
                "missing.",
                hint="Set both, or run the runner together with the api role (role all) to enrol locally.",
                id="flomation.E005",
            )
        )
    if settings.AUTH_COOKIE_SAMESITE == "None" and not settings.AUTH_COOKIE_SECURE:
        problems.append(
            Error("AUTH_COOKIE_SAMESITE=None requires AUTH_COOKIE_SECURE=true.", id="flomation.E006")
        )
    if settings.FLOWS_PATH and "api" in roles and not _flows_path_exists(settings.FLOWS_PATH):
        problems.append(
            Warning(
                f"FLOWS_PATH {settings.FLOWS_PATH} is neither a folder nor a glob that matches a file: "
                "no flow will be loaded from it.",
                hint="Point FLOWS_PATH at the folder of flow files (or a glob like /srv/flows/*.yaml).",
                id="flomation.W020",
            )
        )
    return problems


def _flows_path_exists(pattern: str) -> bool:
    return os.path.isdir(pattern) or bool(glob.glob(pattern, recursive=True))
