"""`manage.py shared_queue_code`: prints the platform-wide shared queue's registration code, so that a
runner run on its own (another box, or `flomation-runner` beside the platform) can join the shared queue."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from flomation.core.services.queues import queue_registration_code, queue_shared


class Command(BaseCommand):
    help = (
        "Prints the registration code of the platform-wide shared queue (created if missing). Give it to a "
        "runner as FLOMATION_REGISTRATION_CODE (or FLOMATION_REGISTRATION_CODE_FILE) with FLOMATION_API."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(queue_registration_code(queue=queue_shared(fresh=True)))
