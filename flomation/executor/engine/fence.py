"""A fence for a run: a condition polled wherever cancellation is (before every node, and by nodes that
wait), which stops the run for good once it turns false. A runner passes one that holds while its lease
on the execution may still be valid, so no node starts after another runner may own the execution."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_POLL = 0.25


class FencedCancel:
    """Reads as set once the caller's cancel event is set or `fence()` returns False (then for good).
    Offers what the engine uses of a threading.Event: is_set, set, wait."""

    def __init__(self, cancel: threading.Event | None, fence: Callable[[], bool]) -> None:
        self._cancel = cancel if cancel is not None else threading.Event()
        self._fence = fence
        self.fenced = False

    def is_set(self) -> bool:
        if self.fenced or self._cancel.is_set():
            return True
        if not self._fence():
            self.fenced = True
        return self.fenced

    def set(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Waits for cancellation up to `timeout`, looking at the fence at least every quarter second."""
        end = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            step = _POLL if end is None else min(_POLL, end - time.monotonic())
            if step <= 0:
                return False
            self._cancel.wait(step)
        return True
