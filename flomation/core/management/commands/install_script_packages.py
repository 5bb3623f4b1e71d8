"""Installs the operator's script packages (FLOMATION_SCRIPT_REQUIREMENTS) into FLOMATION_SCRIPT_PACKAGES_DIR.

Every script sandbox sees that directory read-only; the node manifest lists what it holds. The new set is
installed beside the old one and swapped in whole: a failed install changes nothing. Run it again after
changing the list (an empty list removes every package). Runners on other machines run it there.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from flomation.executor.sandbox.packages import PackageError, install


class Command(BaseCommand):
    help = "Install FLOMATION_SCRIPT_REQUIREMENTS for script nodes into FLOMATION_SCRIPT_PACKAGES_DIR."

    def handle(self, *args: Any, **options: Any) -> None:
        requirements = list(settings.SCRIPT_REQUIREMENTS)
        directory = settings.SCRIPT_PACKAGES_DIR
        try:
            packages = install(requirements, directory)
        except PackageError as error:
            raise CommandError(str(error)) from None
        listed = ", ".join(f"{item['name']} {item['version']}" for item in packages) or "none"
        self.stdout.write(self.style.SUCCESS(f"script packages in {directory}: {listed}"))
