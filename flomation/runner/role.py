"""The runner role: the agent as a loop of `manage.py serve/runserver`. This module is Django-side glue.

With FLOMATION_RUNNER_CONFIG, or FLOMATION_API and FLOMATION_REGISTRATION_CODE, the agent runs exactly as
`flomation-runner` would. With neither, and the api role in the same deployment (role `all`, the one-box
install), it enrols itself into the platform-wide shared queue with no manual step: it reads the shared
queue's registration code through core's services and talks over HTTP to the API this very process serves
(at its bind address; at API_URL when it serves none; FLOMATION_API wins when set). Either way, unless a
config file or FLOMATION_RUNNER_STATE_DIRECTORY says otherwise, its key, id and workspaces live under
VAR_DIR/runner (writable under the shipped unit, unlike the working directory). The agent package itself
imports no Django.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import connection

from flomation.roles import Role, served_url
from flomation.runner.agent import run_agent
from flomation.runner.config import ConfigError, RunnerConfig, load_config

logger = logging.getLogger(__name__)


def _shared_queue_code() -> str:
    from flomation.core.services.queues import queue_registration_code, queue_shared

    try:
        return queue_registration_code(queue=queue_shared(fresh=True))
    finally:
        if not connection.in_atomic_block:  # the agent needs no database from here on
            connection.close()


def runner_config(stop: threading.Event) -> RunnerConfig | None:
    """The agent's configuration for this deployment; None if `stop` was set while waiting for it."""
    environ = dict(os.environ)
    state = settings.VAR_DIR / "runner"
    if settings.RUNNER_CONFIG or (settings.RUNNER_API_URL and settings.RUNNER_REGISTRATION_CODE):
        environ["FLOMATION_REGISTRATION_CODE"] = settings.RUNNER_REGISTRATION_CODE
        if not settings.RUNNER_CONFIG:  # else config.json's state_directory (or its default) decides
            environ.setdefault("FLOMATION_RUNNER_STATE_DIRECTORY", str(state))
            environ.setdefault("FLOMATION_RUNNER_EXECUTION_DIRECTORY", str(state / "workspace"))
        return load_config(settings.RUNNER_CONFIG or None, environ)
    delay = 1.0
    while True:
        try:
            code = _shared_queue_code()
            break
        except Exception as error:  # the database may not be migrated or reachable yet
            logger.warning(
                "runner: the shared queue is not available yet (%s); retrying in %.0f s", error, delay
            )
            if stop.wait(delay):
                return None
            delay = min(delay * 2, 30.0)
    # This process's own API when it serves one (`serve --bind` / FLOMATION_BIND), not the public URL, which
    # may name another port or, on a shared box, another install's server.
    own_api = served_url() if "api" in settings.FLOMATION_ROLES else None
    environ["FLOMATION_API"] = settings.RUNNER_API_URL or own_api or settings.API_URL
    environ["FLOMATION_REGISTRATION_CODE"] = code
    environ.setdefault("FLOMATION_RUNNER_NAME", f"{socket.gethostname()} (built-in)")
    environ.setdefault("FLOMATION_RUNNER_STATE_DIRECTORY", str(state))
    environ.setdefault("FLOMATION_RUNNER_EXECUTION_DIRECTORY", str(state / "workspace"))
    return load_config(None, environ)


def run_runner(stop: threading.Event) -> None:
    try:
        config = runner_config(stop)
    except ConfigError as error:
        logger.error("runner: %s; the runner role stays idle until restarted", error)
        stop.wait()
        return
    if config is not None:
        run_agent(config, stop)


ROLE = Role(
    name="runner",
    loops=("flomation.runner.role.run_runner",),
    description="the runner agent: claim, execute, report",
)
