"""`migrate`, which first checks the database can take the platform's extensions, so that a database
that cannot stops with one clear message before anything (even Django's migration table) is written."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from flomation.db.extensions import extensions_plan


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with connections[options["database"]].cursor() as cursor:
            _, problem = extensions_plan(cursor)
        if problem:
            raise CommandError(problem)
        super().handle(*args, **options)
