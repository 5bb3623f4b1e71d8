"""The launch loop: owns timed triggers through leases and runs the due ones (schedules and pollers)."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from flomation.launch.chat.approvals import approval_deliver_one
from flomation.launch.services.gateway import RemoteGateway, execution_gateway
from flomation.launch.services.leases import due_trigger, leases_acquire, leases_release, leases_renew
from flomation.launch.services.timed import timed_trigger_run
from flomation.loops import PollingLoop


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LaunchLoop(PollingLoop):
    """Each tick renews this process's leases, takes free or expired ones, then runs one due trigger.

    `now` is injectable so tests can move the clock (lease expiry, missed schedule times).
    """

    name = "launch"
    idle_seconds = 1.0

    def __init__(self, *, owner: str | None = None, now: Callable[[], datetime] = timezone.now) -> None:
        self.owner = owner or default_owner()
        self.now = now

    def handle_one(self) -> bool:
        now = self.now()
        leases_renew(owner=self.owner, now=now)
        leases_acquire(owner=self.owner, now=now)
        trigger = due_trigger(owner=self.owner, now=now)
        if trigger is None:
            if approval_deliver_one(now=now):
                return True
            gateway = execution_gateway()
            return isinstance(gateway, RemoteGateway) and gateway.submit_pending() > 0
        timed_trigger_run(trigger=trigger, owner=self.owner, now=now)
        return True

    def __call__(self, stop: threading.Event) -> None:
        try:
            super().__call__(stop)
        finally:
            # Hand the triggers over at once instead of after the TTL.
            from django.db import connections

            try:
                leases_release(owner=self.owner)
            finally:
                connections.close_all()


def run(stop: threading.Event) -> None:
    LaunchLoop()(stop)
