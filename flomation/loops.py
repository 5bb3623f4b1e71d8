"""Background loops: the shape every role's loop follows, and the supervisor that runs them.

A loop's `handle_one()` does one unit of work and says whether it found any; the loop sleeps only when
idle, and a unit that raises is logged and backed off so that one bad row cannot make a crash loop.
Every loop is safe to run in several processes at once: the work it claims is claimed with leases,
compare-and-swap updates or SKIP LOCKED.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable

from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)


class PollingLoop:
    """Subclasses implement handle_one(); instances are callables `run(stop)` for a Role's `loops`."""

    name = "loop"
    idle_seconds: float = 1.0
    error_backoff_seconds: float = 5.0

    def handle_one(self) -> bool:
        """Does one unit of work. Returns True if work was found, so the loop should run again at once."""
        raise NotImplementedError

    def wait_for_work(self, stop: threading.Event, timeout: float) -> None:
        """Blocks until there may be work (or `timeout` passes). Override to wait on LISTEN/NOTIFY."""
        stop.wait(timeout)

    def __call__(self, stop: threading.Event) -> None:
        logger.info("loop %s started", self.name)
        try:
            while not stop.is_set():
                close_old_connections()
                try:
                    found = self.handle_one()
                except Exception:
                    logger.exception("loop %s: a unit of work failed; backing off", self.name)
                    stop.wait(self.error_backoff_seconds)
                    continue
                if not found:
                    self.wait_for_work(stop, self.idle_seconds)
        finally:
            connections.close_all()
            logger.info("loop %s stopped", self.name)


class LoopSupervisor:
    """Runs named loops in threads of this process and stops them together."""

    def __init__(self, loops: Iterable[tuple[str, Callable[[threading.Event], None]]]) -> None:
        self.stop = threading.Event()
        self._loops = list(loops)
        self._threads: list[threading.Thread] = []

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._loops]

    def start(self) -> None:
        for name, target in self._loops:
            thread = threading.Thread(target=self._run, args=(name, target), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, name: str, target: Callable[[threading.Event], None]) -> None:
        try:
            target(self.stop)
        except Exception:
            logger.exception("loop %s ended with an error", name)

    def shutdown(self, timeout: float = 4.0) -> bool:
        """Asks every loop to stop and waits; returns True if all stopped within the timeout."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.running_names()

    def running_names(self) -> list[str]:
        """The loops whose thread has not ended yet."""
        return [thread.name for thread in self._threads if thread.is_alive()]

    def install_signal_handlers(self, on_stop: Callable[[], None] | None = None) -> None:
        def handler(signum: int, _frame: object) -> None:
            logger.info("received %s; stopping loops", signal.Signals(signum).name)
            self.stop.set()
            if on_stop:
                on_stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
