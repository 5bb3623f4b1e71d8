"""`python manage.py create_admin --email EMAIL [--password-file F]`: the platform's first admin, once."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from flomation.identity.errors import IdentityError
from flomation.identity.services.accounts import admin_create


class Command(BaseCommand):
    help = (
        "Creates an administrator account with a verified email address, unless it exists already "
        "(safe to run on every start). Without --password-file a strong password is generated and "
        "printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The administrator's email address.")
        parser.add_argument(
            "--password-file", help="A file holding the password (first line); '-' reads standard input."
        )

    def handle(self, *args: Any, email: str, password_file: str | None, **options: Any) -> None:
        generated = password_file is None
        password = secrets.token_urlsafe(18) if generated else self._read_password(password_file or "")
        try:
            user, created = admin_create(email=email, password=password)
        except IdentityError as exc:
            raise CommandError(str(exc)) from None
        if not created:
            self.stdout.write(f"An account for {user.email} exists already; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS(f"Created the administrator {user.email}."))
        if generated:
            self.stdout.write(f"Password (shown only now): {password}")

    def _read_password(self, path: str) -> str:
        try:
            text = self._stdin() if path == "-" else Path(path).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read --password-file {path}: {exc.strerror}.") from None
        lines = text.splitlines()
        return lines[0] if lines else ""

    def _stdin(self) -> str:
        import sys

        return sys.stdin.read()
