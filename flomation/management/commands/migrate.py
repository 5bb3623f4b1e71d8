"""`migrate`, which first checks the database can take the platform's extensions, so that a database
that cannot stops with one clear message before anything (even Django's migration table) is written.

Only the database that holds core's tables needs pgvector: identity's own database (IDENTITY_DATABASE_URL,
`migrate --database identity`) may be a plain PostgreSQL (flomation.db.routers)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from flomation.db.extensions import extensions_plan
from flomation.db.routers import alias_holds_app


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        # The `flomation` app's first migration creates the extensions; it runs where core's tables live.
        if alias_holds_app(alias, "flomation"):
            with connections[alias].cursor() as cursor:
                _, problem = extensions_plan(cursor)
            if problem:
                raise CommandError(problem)
        super().handle(*args, **options)
