from __future__ import annotations

import secrets
from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Prints a new random key: a Fernet key for FLOMATION_ENCRYPTION_KEY (default), or with --secret a "
        "64-character value for SECRET_KEY or AUTH_SECRET."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--secret", action="store_true", help="a signing secret instead of a Fernet key")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(secrets.token_urlsafe(48) if options["secret"] else Fernet.generate_key().decode())
