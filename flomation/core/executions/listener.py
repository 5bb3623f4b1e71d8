"""One LISTEN connection per web process, fanning NOTIFYs out to every waiting request.

Request threads never LISTEN themselves: a waiter subscribes here to channels (a queue's, a runner's) or
to executions (their changes arrive on the one `EXECUTIONS` channel, keyed by the payload) and gets a
`threading.Event` that is set when a notification for it arrives. The dedicated psycopg connection lives
in a daemon thread that sleeps in select() on its socket and on a wake-up pipe (a new channel is LISTENed
at once, not at the next poll). After a database restart it reconnects with backoff and then wakes every
waiter, since notifications sent while it was away are lost: a waiter always re-checks the state it waits
for when woken, so nothing is missed.

Long waits also take a slot of the process's wait budget (`wait_slot`, FLOMATION_WEB_WAITS per web
process): the web server runs that many threads on top of its working threads, so waiting requests can
never take the threads that claims, reports and other requests need.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

from flomation.core.executions.channels import EXECUTIONS

logger = logging.getLogger(__name__)

# The longest the thread sleeps without looking at its socket (a safety net; NOTIFYs wake it at once).
_IDLE_SECONDS = 1.0


class Waiter:
    """`event` is set by a NOTIFY on `channels` or for one of `executions`, and when the listener
    reconnects (`reconnects` counts those: look again, something may have been missed). Non-empty
    channel payloads are kept in `payloads`."""

    def __init__(self, channels: frozenset[str], executions: frozenset[str]) -> None:
        self.channels = channels
        self.executions = executions
        self.event = threading.Event()
        self.payloads: list[str] = []
        self.reconnects = 0
        self.closed = False

    def wait(self, timeout: float) -> bool:
        """True if woken (then cleared for the next wait), False after `timeout`."""
        woken = self.event.wait(max(0.0, timeout))
        self.event.clear()
        return woken


def listen_params(alias: str = "default") -> dict[str, Any]:
    """libpq parameters of Django's database (strings and numbers only: Django's adapters, cursor class
    and pool options stay out), for a connection of one's own."""
    return {
        key: value
        for key, value in connections[alias].get_connection_params().items()
        if isinstance(value, str | int)
        and not isinstance(value, bool)
        and key not in ("prepare_threshold", "pool")
    }


class Listener:
    def __init__(self, alias: str = "default", wait_slots: int | None = None) -> None:
        self.alias = alias
        self._lock = threading.Lock()
        self._channel_waiters: dict[str, set[Waiter]] = {}
        self._execution_waiters: dict[str, set[Waiter]] = {}
        self._listening: set[str] = set()
        self._listened = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self._lost = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        slots = settings.WEB_WAITS if wait_slots is None else wait_slots
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self.slots_total = max(1, slots)

    # --- waiters ---------------------------------------------------------------------------------

    def subscribe(
        self, channels: Iterable[str] = (), executions: Iterable[str] = (), ready_timeout: float = 2.0
    ) -> Waiter:
        """Registers a waiter; returns once its channels are LISTENed (or after `ready_timeout`). Check
        the state waited for only after this returns: a NOTIFY before the LISTEN is not delivered."""
        waiter = Waiter(frozenset(channels), frozenset(executions))
        wanted = set(waiter.channels) | ({EXECUTIONS} if waiter.executions else set())
        with self._lock:
            for channel in waiter.channels:
                self._channel_waiters.setdefault(channel, set()).add(waiter)
            for key in waiter.executions:
                self._execution_waiters.setdefault(key, set()).add(waiter)
            self._ensure_thread()
            if not wanted <= self._listening:
                self._wake()
                deadline = time.monotonic() + ready_timeout
                while not wanted <= self._listening and time.monotonic() < deadline:
                    self._listened.wait(max(0.0, deadline - time.monotonic()))
        return waiter

    def unsubscribe(self, waiter: Waiter) -> None:
        with self._lock:
            for channel in waiter.channels:
                self._discard(self._channel_waiters, channel, waiter)
            for key in waiter.executions:
                self._discard(self._execution_waiters, key, waiter)

    @contextlib.contextmanager
    def waiting(self, channels: Iterable[str] = (), executions: Iterable[str] = ()) -> Iterator[Waiter]:
        waiter = self.subscribe(channels, executions)
        try:
            yield waiter
        finally:
            self.unsubscribe(waiter)

    @staticmethod
    def _discard(index: dict[str, set[Waiter]], key: str, waiter: Waiter) -> None:
        waiters = index.get(key)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del index[key]

    # --- the wait budget -------------------------------------------------------------------------

    def wait_slot_take(self) -> bool:
        """Takes one of this process's long-wait slots; False when all are in use (then do not wait)."""
        return self._slots.acquire(blocking=False)

    def wait_slot_give(self) -> None:
        self._slots.release()

    @contextlib.contextmanager
    def wait_slot(self) -> Iterator[bool]:
        """`with listener().wait_slot() as granted:` waits only if `granted`."""
        granted = self.wait_slot_take()
        try:
            yield granted
        finally:
            if granted:
                self.wait_slot_give()

    def waits_in_progress(self) -> int:
        return self.slots_total - self._slots._value  # noqa: SLF001 (a gauge, read without locking)

    # --- life ------------------------------------------------------------------------------------

    def close(self, timeout: float = 3.0) -> None:
        """Ends every wait, stops the thread and closes its connection (before a test database is dropped)."""
        self._closed.set()
        with self._lock:
            for waiter in self._all_waiters():
                waiter.closed = True
                waiter.event.set()
            self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
        deadline = time.monotonic() + timeout
        while (self._channel_waiters or self._execution_waiters) and time.monotonic() < deadline:
            time.sleep(0.02)
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _all_waiters(self) -> set[Waiter]:
        every: set[Waiter] = set()
        for index in (self._channel_waiters, self._execution_waiters):
            for waiters in index.values():
                every |= waiters
        return every

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe already says "wake up"
            os.write(self._wake_write, b"\0")

    def _ensure_thread(self) -> None:
        if self._closed.is_set():
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="flomation-listen", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        backoff = 0.5
        while not self._closed.is_set():
            try:
                with psycopg.connect(**listen_params(self.alias), autocommit=True) as conn:
                    backoff = 0.5
                    self._serve(conn)
            except Exception as error:
                if self._closed.is_set():
                    return
                logger.warning("execution listener: %s; reconnecting in %.1f s", error, backoff)
            with self._lock:
                self._listening.clear()
                self._lost = True
            if self._closed.wait(backoff):
                return
            backoff = min(backoff * 2, 10.0)

    def _serve(self, conn: psycopg.Connection[Any]) -> None:
        while not self._closed.is_set():
            with self._lock:
                wanted = set(self._channel_waiters) | {EXECUTIONS}
                missing = wanted - self._listening
            for channel in sorted(missing):
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            if missing:
                with self._lock:
                    self._listening |= missing
                    self._listened.notify_all()
                    if self._lost:
                        # Listening again after a loss: whatever was sent meanwhile is gone, so every
                        # waiter looks again, now that nothing new can slip by.
                        self._lost = False
                        for waiter in self._all_waiters():
                            waiter.reconnects += 1
                            waiter.event.set()
            self._dispatch(conn.notifies(timeout=0))
            readable, _, _ = select.select([conn.fileno(), self._wake_read], [], [], _IDLE_SECONDS)
            if self._wake_read in readable:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(self._wake_read, 4096)

    def _dispatch(self, notifies: Iterable[psycopg.Notify]) -> None:
        for notify in notifies:
            with self._lock:
                if notify.channel == EXECUTIONS:
                    for waiter in self._execution_waiters.get(notify.payload, ()):
                        waiter.event.set()
                    continue
                for waiter in self._channel_waiters.get(notify.channel, ()):
                    if notify.payload:
                        waiter.payloads.append(notify.payload)
                    waiter.event.set()


_listener: Listener | None = None
_listener_lock = threading.Lock()


def listener() -> Listener:
    """This process's listener (started on first use)."""
    global _listener
    with _listener_lock:
        if _listener is None:
            _listener = Listener()
        return _listener


def listener_close() -> None:
    """Closes this process's listener; the next wait starts a new one."""
    global _listener
    with _listener_lock:
        if _listener is not None:
            _listener.close()
            _listener = None
