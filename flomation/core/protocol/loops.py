"""The api role's lease-recovery loop: expired leases go back to pending (or fail), old nonces are purged."""

from __future__ import annotations

import time

from flomation.core import executions
from flomation.core.services import runs
from flomation.loops import PollingLoop

NONCE_PURGE_INTERVAL = 60.0


class LeaseReclaimLoop(PollingLoop):
    """Safe in several processes at once: expired rows are taken with SKIP LOCKED."""

    name = "lease-reclaim"
    idle_seconds = 1.0

    def __init__(self) -> None:
        self._next_purge = 0.0

    def handle_one(self) -> bool:
        found = executions.executions_reclaim_expired(limit=100) > 0
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + NONCE_PURGE_INTERVAL
            found = runs.nonces_purge_expired() > 0 or found
        return found


reclaim_expired_leases = LeaseReclaimLoop()
