"""`manage.py serve --role api,launch [--bind 0.0.0.0:8888] [--workers N]`: the production server.

Web roles are served by gunicorn (pre-forked WSGI workers with threads: long polls and event streams hold a
thread, not a process); the roles' background loops run in this process, the parent of the gunicorn
master, so one systemd unit holds the whole tree. SIGTERM or SIGINT stops loops and web workers within 5 s.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from flomation.db import embedded_handles_prune
from flomation.lib.buffering_worker import TIMEOUT_VARIABLE
from flomation.loops import LoopSupervisor
from flomation.metrics import multiprocess_directory_prepare
from flomation.roles import default_port, enabled_roles, loop_callables, served_url_set

logger = logging.getLogger("flomation.serve")

STOP_SECONDS = 4.5
LOOPS_STOP_SECONDS = 1.0
WEB_GRACEFUL_SECONDS = 3
PR_SET_PDEATHSIG = 1


def _terminate_with_parent() -> None:
    """In the web server's process, before exec: SIGTERM when `serve` dies (Linux; elsewhere a no-op)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


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
        multiprocess_directory_prepare()  # metrics of every worker and loop of this tree, summed per scrape
        self.check(display_num_errors=False, fail_level=40)  # ERROR and above stop start-up
        roles = settings.FLOMATION_ROLES
        web = [role for role in enabled_roles(roles) if role.serves_http]
        bind = options["bind"] or settings.WEB_BIND or f"0.0.0.0:{default_port(roles)}"
        supervisor = LoopSupervisor([] if options["no_loops"] else loop_callables(roles))
        gunicorn: subprocess.Popen[bytes] | None = None
        # A stop only sets the flag: the ordered stop below runs in the main thread.
        supervisor.install_signal_handlers()
        if web:
            served_url_set(bind)
            call_command("collectstatic", interactive=False, verbosity=0)
            gunicorn = subprocess.Popen(
                self._gunicorn_command(bind, options),
                env={**os.environ, TIMEOUT_VARIABLE: str(settings.REQUEST_BODY_TIMEOUT)},
                # Its own process group: Ctrl-C in a terminal reaches only this process, which stops the
                # tree in order. The kernel stops it if this process dies without doing so.
                start_new_session=True,
                preexec_fn=_terminate_with_parent,
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
        except BaseException:
            self._stop(supervisor, gunicorn)
            raise
        self._stop(supervisor, gunicorn)
        # Stopped in order. Leave without the interpreter's teardown of every module, which on a busy box
        # takes seconds; exit handlers still run: the embedded database's handle is released and, when this
        # is the last process using it, the server stopped.
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        atexit._run_exitfuncs()
        os._exit(0)

    def _stop(self, supervisor: LoopSupervisor, gunicorn: subprocess.Popen[bytes] | None) -> None:
        """Loops first, while the web server still answers (the built-in runner ends its long polls and says
        goodbye to its API), then the web server, gracefully; all within STOP_SECONDS."""
        deadline = time.monotonic() + STOP_SECONDS
        if not supervisor.shutdown(timeout=LOOPS_STOP_SECONDS):
            logger.warning("loops %s did not stop in time", ", ".join(supervisor.running_names()))
        if gunicorn is None:
            return
        if gunicorn.poll() is None:
            gunicorn.terminate()
        try:
            gunicorn.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("the web server did not stop in time; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(gunicorn.pid, signal.SIGKILL)
            gunicorn.wait()
        if settings.DATABASES["default"]["ENGINE"] == "flomation.db":
            embedded_handles_prune()  # a worker killed past its grace period left its handle behind

    def _gunicorn_command(self, bind: str, options: dict[str, Any]) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "flomation.wsgi:application",
            "--bind", bind,
            "--workers", str(options["workers"] or settings.WEB_WORKERS),
            # gthread, with each request read in full before a thread takes it (slow clients hold no thread).
            "--worker-class", "flomation.lib.buffering_worker.ThreadWorker",
            # Working threads, plus the threads long waits run on (their own budget: see WEB_WAITS).
            "--threads", str((options["threads"] or settings.WEB_THREADS) + max(1, settings.WEB_WAITS)),
            # Within STOP_SECONDS after the loops: workers end their long waits at once on SIGTERM.
            "--graceful-timeout", str(WEB_GRACEFUL_SECONDS),
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
