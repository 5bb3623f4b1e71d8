"""`manage.py serve --role api,launch [--bind 0.0.0.0:8888] [--workers N]`: the production server.

Web roles are served by gunicorn (pre-forked WSGI workers with threads: long polls and event streams hold a
thread, not a process); the roles' background loops run in this process, the parent of the gunicorn
master, so one systemd unit holds the whole tree. SIGTERM or SIGINT stops loops and web workers within 5 s.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from flomation.lib.buffering_worker import TIMEOUT_VARIABLE
from flomation.loops import LoopSupervisor
from flomation.roles import default_port, enabled_roles, loop_callables

logger = logging.getLogger("flomation.serve")


class Command(BaseCommand):
    help = "Runs the enabled roles (--role or FLOMATION_ROLES) with a production web server and their loops."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", help="address:port to listen on (default 0.0.0.0:<role's port>)")
        parser.add_argument(
            "--workers", type=int, help=f"web worker processes (default {settings.WEB_WORKERS})"
        )
        parser.add_argument(
            "--threads", type=int, help=f"threads per worker (default {settings.WEB_THREADS})"
        )
        parser.add_argument(
            "--no-loops", action="store_true", help="serve HTTP only, start no background loop"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.check(display_num_errors=False, fail_level=40)  # ERROR and above stop start-up
        roles = settings.FLOMATION_ROLES
        web = [role for role in enabled_roles(roles) if role.serves_http]
        bind = options["bind"] or settings.WEB_BIND or f"0.0.0.0:{default_port(roles)}"
        supervisor = LoopSupervisor([] if options["no_loops"] else loop_callables(roles))
        gunicorn: subprocess.Popen[bytes] | None = None

        def stop_web() -> None:
            if gunicorn is not None and gunicorn.poll() is None:
                gunicorn.terminate()

        supervisor.install_signal_handlers(on_stop=stop_web)
        if web:
            call_command("collectstatic", interactive=False, verbosity=0)
            gunicorn = subprocess.Popen(
                self._gunicorn_command(bind, options),
                env={**os.environ, TIMEOUT_VARIABLE: str(settings.REQUEST_BODY_TIMEOUT)},
            )
        self.stdout.write(
            f"Flomation {settings.FLOMATION_VERSION}: roles {', '.join(sorted(roles))}"
            + (f", listening on {bind}" if web else ", no web role")
            + (f", loops {', '.join(supervisor.names)}" if supervisor.names else "")
        )
        self.stdout.flush()
        supervisor.start()
        try:
            while not supervisor.stop.wait(0.5):
                if gunicorn is not None and gunicorn.poll() is not None:
                    supervisor.stop.set()
                    raise CommandError(f"the web server exited with status {gunicorn.returncode}")
        finally:
            deadline = time.monotonic() + 4.5
            stop_web()
            supervisor.shutdown(timeout=max(0.5, deadline - time.monotonic() - 1))
            if gunicorn is not None:
                try:
                    gunicorn.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    gunicorn.kill()

    def _gunicorn_command(self, bind: str, options: dict[str, Any]) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "flomation.wsgi:application",
            "--bind", bind,
            "--workers", str(options["workers"] or settings.WEB_WORKERS),
            # gthread, with each request read in full before a thread takes it (slow clients hold no thread).
            "--worker-class", "flomation.lib.buffering_worker.ThreadWorker",
            "--threads", str(options["threads"] or settings.WEB_THREADS),
            "--graceful-timeout", "3",
            "--timeout", "120",
            "--keep-alive", "5",
            # Several serve processes may share a box (one per role): they must not fight over
            # gunicorn's one default control socket, which nothing here uses.
            "--no-control-socket",
            # No access log below DEBUG: gunicorn formats every line even when it goes to /dev/null.
            *(["--access-logfile", "-"] if settings.LOG_LEVEL == "DEBUG" else []),
            "--error-logfile", "-",
            "--log-level", settings.LOG_LEVEL.lower(),
            "--name", "flomation-" + "-".join(sorted(settings.FLOMATION_ROLES)),
        ]  # fmt: skip
