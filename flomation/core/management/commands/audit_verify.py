"""manage.py audit_verify [--organisation ID|platform]: recompute the audit hash chains.

Exits 0 when every chain matches; otherwise prints, per chain, the first entry that does not and exits 1.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from flomation.core.services.audit import ALL, audit_verify


class Command(BaseCommand):
    help = "Recomputes the audit log's hash chains and names the first entry of each that does not match."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organisation",
            default="",
            help="check one organisation's chain (its id), or 'platform' for entries of no organisation",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = options["organisation"]
        if chosen == "platform":
            organisation: Any = None
        elif chosen:
            try:
                organisation = uuid.UUID(chosen)
            except ValueError:
                raise CommandError("--organisation takes an organisation's id or 'platform'.") from None
        else:
            organisation = ALL
        report = audit_verify(organisation_id=organisation)
        for problem in report.problems:
            self.stderr.write(f"MISMATCH at {problem}")
        if report.problems:
            raise CommandError(
                f"{len(report.problems)} of {report.chains} audit chain(s) do not verify; "
                "the entries named above were changed, removed or inserted outside the platform."
            )
        self.stdout.write(f"OK: {report.entries} audit entries in {report.chains} chain(s) verify.")
