"""The worker role: a Celery worker for asynchronous platform work (email, notifications, poll fan-out).

With no CELERY_BROKER_URL, tasks run eagerly in the process that queues them, so there is nothing for a
worker to consume; the loop then says so once and waits for shutdown.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

from django.conf import settings

from flomation.roles import Role

logger = logging.getLogger(__name__)


def run_celery_worker(stop: threading.Event) -> None:
    if not settings.CELERY_BROKER_URL:
        logger.warning("worker role: no CELERY_BROKER_URL, tasks run in the process that queues them")
        stop.wait()
        return
    command = [
        sys.executable, "-m", "celery", "-A", "flomation", "worker",
        "--loglevel", settings.LOG_LEVEL.lower(),
        "--concurrency", str(settings.CELERY_WORKER_CONCURRENCY),
        "--hostname", f"flomation@%h-{os.getpid()}",
    ]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        while not stop.wait(0.5):
            if process.poll() is not None:
                logger.error("celery worker exited with %s; restarting in 5 s", process.returncode)
                if stop.wait(5):
                    return
                process = subprocess.Popen(command)
    finally:
        if process.poll() is None:
            # SIGQUIT is Celery's cold shutdown: it returns at once instead of finishing running tasks,
            # which keeps the whole process tree inside the 5 s stop budget; unacked tasks are redelivered.
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(3)
            except subprocess.TimeoutExpired:
                process.kill()


ROLE = Role(
    name="worker",
    loops=("flomation.worker.run_celery_worker",),
    description="Celery worker for asynchronous platform work",
)
