"""Which database holds which component's tables (settings.DATABASE_ROUTERS).

Identity's tables, with Django's auth, admin, contenttypes and sessions (their rows hang off identity's
users, and Django cannot relate rows across databases), live on IDENTITY_DATABASE_ALIAS: `identity` when
IDENTITY_DATABASE_URL is set, else `default`. Everything else (core, launch, editor, runner, and the
`flomation` app whose migration creates pgvector) lives on `default`. Each app is migrated on its own
database only, so identity's database never needs pgvector. An identity-only process may have identity's
database as its only one (settings.CORE_DATABASE False): then no core migration runs there at all.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

IDENTITY_APPS = frozenset({"identity", "auth", "admin", "contenttypes", "sessions"})


def identity_alias() -> str:
    """The database alias holding identity's tables in this process."""
    return str(getattr(settings, "IDENTITY_DATABASE_ALIAS", DEFAULT_DB_ALIAS))


def alias_for_app(app_label: str) -> str:
    return identity_alias() if app_label in IDENTITY_APPS else DEFAULT_DB_ALIAS


def alias_holds_app(alias: str, app_label: str) -> bool:
    """Whether the app's tables live on (and are migrated on) this alias."""
    if alias != alias_for_app(app_label):
        return False
    return app_label in IDENTITY_APPS or bool(getattr(settings, "CORE_DATABASE", True))


def aliases_in_use() -> list[str]:
    """The aliases this process's tables live on: what readiness checks and the migration plan look at."""
    aliases = [DEFAULT_DB_ALIAS] if getattr(settings, "CORE_DATABASE", True) else []
    if identity_alias() not in aliases:
        aliases.append(identity_alias())
    return aliases


class ComponentRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        return alias_for_app(model._meta.app_label)  # type: ignore[attr-defined]

    def db_for_write(self, model: type, **hints: Any) -> str:
        return alias_for_app(model._meta.app_label)  # type: ignore[attr-defined]

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return alias_for_app(obj1._meta.app_label) == alias_for_app(obj2._meta.app_label)

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return alias_holds_app(db, app_label)
