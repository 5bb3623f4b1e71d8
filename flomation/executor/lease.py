"""The fence a runner hands an executor process it starts: a file holding the end of the runner's lease on
the execution, as a CLOCK_MONOTONIC reading (the same clock in every process of the machine), which the
runner rewrites whenever a heartbeat extends the lease. The executor starts no node past that moment."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path

LEASE_FILE_VARIABLE = "FLOMATION_LEASE_FILE"


def lease_file_fence(path: str | Path) -> Callable[[], bool]:
    """A fence (see flomation.executor.engine.fence) that holds while the lease in `path` has not ended.
    A file that cannot be read keeps the last deadline read (none yet: no limit)."""
    path = Path(path)
    last = [math.inf]

    def fence() -> bool:
        with contextlib.suppress(OSError, ValueError):
            last[0] = float(path.read_text())
        return time.monotonic() < last[0]

    return fence
