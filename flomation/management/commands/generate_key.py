from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from flomation.lib.keys import HELP, new_key


class Command(BaseCommand):
    """Listed by `manage.py help`; manage.py runs generate_key without loading settings (see main())."""

    help = HELP
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--secret", action="store_true", help="a signing secret instead of a Fernet key")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(new_key(secret=options["secret"]))
