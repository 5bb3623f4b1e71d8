"""`python manage.py prune_identity`: deletes what identity no longer needs. Safe to run from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from flomation.identity.services.accounts import accounts_prune_unverified
from flomation.identity.services.links import links_prune
from flomation.identity.services.sessions import sessions_prune
from flomation.identity.services.throttle import login_failures_prune


class Command(BaseCommand):
    help = "Deletes ended sessions, old links, old login failures and sign-ups that were never verified."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Keep ended sessions and links this long.")
        parser.add_argument(
            "--unverified-days", type=int, default=7, help="Keep unverified sign-ups this long."
        )

    def handle(self, *args: Any, days: int, unverified_days: int, **options: Any) -> None:
        counts = {
            "sessions": sessions_prune(older_than_days=days),
            "links": links_prune(older_than_days=days),
            "login failures": login_failures_prune(),
            "unverified sign-ups": accounts_prune_unverified(older_than_days=unverified_days),
        }
        self.stdout.write(", ".join(f"{count} {name}" for name, count in counts.items()) + " deleted.")
