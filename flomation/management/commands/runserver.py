"""`manage.py runserver --role all`: Django's development server plus the enabled roles' loops."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.management.commands import runserver

from flomation.loops import LoopSupervisor
from flomation.roles import default_port, loop_callables, served_url_set


class Command(runserver.Command):
    help = "Development server for the enabled roles (--role or FLOMATION_ROLES), with their loops."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument("--no-loops", action="store_true", help="start no background loop")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options.get("addrport"):
            self.default_port = str(default_port(settings.FLOMATION_ROLES))
        self._no_loops = options.get("no_loops", False)
        super().handle(*args, **options)

    def inner_run(self, *args: Any, **options: Any) -> None:
        # With the autoreloader, inner_run runs in the child that serves requests: loops belong there.
        served_url_set(f"{self.addr}:{self.port}" if not self._raw_ipv6 else f"[{self.addr}]:{self.port}")
        supervisor = LoopSupervisor([] if self._no_loops else loop_callables(settings.FLOMATION_ROLES))
        if supervisor.names and (os.environ.get("RUN_MAIN") == "true" or not options.get("use_reloader")):
            self.stdout.write(f"Loops: {', '.join(supervisor.names)}")
            supervisor.start()
        try:
            super().inner_run(*args, **options)
        finally:
            supervisor.shutdown(timeout=4)
