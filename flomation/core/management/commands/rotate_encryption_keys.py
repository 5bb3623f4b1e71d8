"""Re-encrypts every encrypted column under the first key of FLOMATION_ENCRYPTION_KEY.

Rotation: put the new key first (keep the old ones after it), restart, run this command, then remove the
old keys. It works in batches and skips rows already under the first key, so it can be stopped (Ctrl-C)
and run again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from flomation.core.services.secrets import encryption_rotators


class Command(BaseCommand):
    help = "Re-encrypt secrets, registration codes and MFA seeds under the first encryption key (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        total = 0
        try:
            for label, rotate in encryption_rotators():
                changed = sum(rotate(batch_size))
                total += changed
                self.stdout.write(f"{label}: {changed} re-encrypted")
        except KeyboardInterrupt:
            self.stderr.write(f"stopped after {total} rows; run the command again to finish")
            raise SystemExit(130) from None
        self.stdout.write(self.style.SUCCESS(f"done: {total} values re-encrypted under the first key"))
