"""One LISTEN connection per API process that wakes the long polls waiting on queue channels.

Request threads never LISTEN themselves: a waiter subscribes to channels here and gets a threading.Event
that is set when a NOTIFY arrives on any of them (execution_create sends one in its transaction). The
dedicated psycopg connection lives in a daemon thread, reconnects with backoff, and on reconnect wakes
every waiter, since notifications sent while it was away are lost and the waiters must look again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
from django.db import connections

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.2


class Waiter:
    """`event` is set by any NOTIFY on `channels`; non-empty payloads are kept in `payloads`."""

    def __init__(self, channels: frozenset[str]) -> None:
        self.channels = channels
        self.event = threading.Event()
        self.payloads: list[str] = []
        self.closed = False


class Listener:
    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = {}
        self._listening: set[str] = set()
        self._listened = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def _connection_kwargs(self) -> dict[str, Any]:
        wrapper = connections[self.alias]
        params = dict(wrapper.get_connection_params())
        params.pop("cursor_factory", None)
        params.pop("context", None)
        params.pop("prepare_threshold", None)
        params.pop("server_side_binding", None)
        return params

    def subscribe(self, channels: list[str], ready_timeout: float = 2.0) -> Waiter:
        """Registers a waiter; returns once its channels are LISTENed (or after `ready_timeout`)."""
        waiter = Waiter(frozenset(channels))
        with self._lock:
            for channel in waiter.channels:
                self._waiters.setdefault(channel, set()).add(waiter)
            self._ensure_thread()
            deadline = time.monotonic() + ready_timeout
            while not waiter.channels <= self._listening and time.monotonic() < deadline:
                self._listened.wait(max(0.0, deadline - time.monotonic()))
        return waiter

    def unsubscribe(self, waiter: Waiter) -> None:
        with self._lock:
            for channel in waiter.channels:
                waiters = self._waiters.get(channel)
                if waiters:
                    waiters.discard(waiter)

    def close(self, timeout: float = 3.0) -> None:
        """Ends every wait, stops the thread and closes its connection (before a test database is dropped)."""
        self._closed.set()
        with self._lock:
            for waiters in self._waiters.values():
                for waiter in waiters:
                    waiter.closed = True
                    waiter.event.set()
        if self._thread is not None:
            self._thread.join(timeout)
        deadline = time.monotonic() + timeout
        while any(self._waiters.values()) and time.monotonic() < deadline:
            time.sleep(0.02)

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
                with psycopg.connect(**self._connection_kwargs(), autocommit=True) as conn:
                    backoff = 0.5
                    self._serve(conn)
            except Exception as error:
                logger.warning("queue listener: %s; reconnecting in %.1f s", error, backoff)
            with self._lock:
                self._listening.clear()
                self._wake_all()
            if self._closed.wait(backoff):
                return
            backoff = min(backoff * 2, 10.0)

    def _serve(self, conn: psycopg.Connection[Any]) -> None:
        while not self._closed.is_set():
            with self._lock:
                wanted = {channel for channel, waiters in self._waiters.items() if waiters} | self._listening
                missing = wanted - self._listening
            for channel in sorted(missing):
                conn.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(channel)))
            if missing:
                with self._lock:
                    self._listening |= missing
                    self._listened.notify_all()
            for notify in conn.notifies(timeout=_POLL_SECONDS):
                with self._lock:
                    for waiter in list(self._waiters.get(notify.channel, ())):
                        if notify.payload:
                            waiter.payloads.append(notify.payload)
                        waiter.event.set()

    def _wake_all(self) -> None:
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.event.set()


_listener: Listener | None = None
_listener_lock = threading.Lock()


def listener() -> Listener:
    global _listener
    with _listener_lock:
        if _listener is None:
            _listener = Listener()
        return _listener


def listener_close() -> None:
    """Closes this process's listener; the next long poll starts a new one."""
    global _listener
    with _listener_lock:
        if _listener is not None:
            _listener.close()
            _listener = None
