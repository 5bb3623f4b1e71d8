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
    problems.extend(_token_verification_problems(roles))
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
    problems.extend(
        Warning(message, hint="See docs/migrating-from-flomation.md.", id="flomation.W002")
        for message in getattr(settings, "FLOMATION_COMPAT_WARNINGS", [])
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


_VERIFICATION_HINT = (
    "TOKEN_VERIFICATION=local (the default) needs the identity role's AUTH_SECRET and identity's database "
    "(the same database, or IDENTITY_DATABASE_URL); TOKEN_VERIFICATION=introspect needs only IDENTITY_SERVICE, "
    "the identity role's URL, and is for roles that do not run beside identity."
)


def _token_verification_problems(roles: frozenset[str]) -> list[Error | Warning]:
    """How the roles that authenticate users verify tokens: one explicit way, and everything it needs."""
    if "identity" in roles and settings.TOKEN_VERIFICATION == "introspect":
        return [
            Error(
                "TOKEN_VERIFICATION=introspect cannot be used in a process that runs the identity role: it "
                "holds the sessions and verifies tokens itself.",
                hint=_VERIFICATION_HINT,
                id="flomation.E008",
            )
        ]
    if "identity" in roles or not roles & {"api", "launch", "editor"}:
        return []
    if settings.TOKEN_VERIFICATION == "introspect":
        if settings.IDENTITY_SERVICE:
            return _introspection_limits(roles)
        return [
            Error(
                "TOKEN_VERIFICATION=introspect but IDENTITY_SERVICE is not set, so no token can be verified.",
                hint=_VERIFICATION_HINT,
                id="flomation.E007",
            )
        ]
    problems: list[Error | Warning] = []
    if not settings.AUTH_SECRET:
        problems.append(
            Error(
                "A role that authenticates users verifies tokens locally (TOKEN_VERIFICATION=local) but "
                "AUTH_SECRET is not set.",
                hint=_VERIFICATION_HINT,
                id="flomation.E002",
            )
        )
    if settings.IDENTITY_SERVICE:
        problems.append(
            Warning(
                "IDENTITY_SERVICE is set but tokens are verified locally (TOKEN_VERIFICATION=local), so it is "
                "not used.",
                hint="Set TOKEN_VERIFICATION=introspect to verify tokens through the identity role. "
                + _VERIFICATION_HINT,
                id="flomation.W004",
            )
        )
    return problems


def _introspection_limits(roles: frozenset[str]) -> list[Error | Warning]:
    """Introspection covers users' tokens; personal API tokens and the operators' pages read identity's
    users, which an introspecting process finds only with identity's database."""
    if not roles & {"api", "editor"} or settings.IDENTITY_DATABASE_ALIAS != "default":
        return []
    return [
        Warning(
            "Tokens are introspected and identity's database is not configured here, so personal API tokens "
            "(flo_...), /admin/ and the editor's platform-wide pages find no account and are refused.",
            hint="Set IDENTITY_DATABASE_URL (read access suffices for API tokens) if they are used here. "
            + _VERIFICATION_HINT,
            id="flomation.W005",
        )
    ]
