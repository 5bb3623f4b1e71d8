"""A gunicorn gthread worker that reads each request in full before a thread takes it.

gunicorn's gthread worker hands a connection to a thread as soon as its first bytes arrive; the thread then
blocks while the rest of the headers and the body come in. Clients that trickle a body a byte a second hold
every thread that way, and even `/healthz` waits. This worker reads the request line, the headers and the
body (Content-Length or chunked, up to BUFFER_LIMIT bytes) in its event loop, without a thread, and passes the
connection on only once the request is complete. A request that is not complete within
FLOMATION_REQUEST_BODY_TIMEOUT seconds of its first byte (of the connection's opening for a new one) is
answered 408 and closed, so a slow client costs a socket and a small buffer, never a thread.

A body past BUFFER_LIMIT is handed over once that much has arrived and the thread reads the rest as it comes
(a client sending a megabyte is not trickling); a buffering proxy in front (deploy/nginx-editor.conf) bounds
those. TLS terminated by gunicorn itself is passed through unbuffered (the production shape terminates TLS
in the proxy). Imports nothing from Django: `serve` passes the timeout in the environment.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import selectors
import socket
import sys
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn
from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker

TIMEOUT_VARIABLE = "FLOMATION_REQUEST_BODY_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
BUFFER_LIMIT = 1 << 20
HEAD_LIMIT = 64 << 10
RECV_SIZE = 64 << 10
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 57\r\n"
    b"Connection: close\r\n\r\nThe request did not arrive in time; send it again faster.\n"
)
CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"


def request_complete(data: bytes) -> bool | None:
    """True if `data` holds a whole HTTP/1 request head and its body, False if more is to come, None if it
    cannot tell (a malformed head or framing: the HTTP parser in the thread answers that)."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None if len(data) > HEAD_LIMIT else False
    length: int | None = None
    chunked = False
    for line in data[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    body = memoryview(data)[head_end + 4 :]
    if chunked:
        return _chunked_complete(body)
    if length is None or length < 0:
        return True
    return len(body) >= min(length, BUFFER_LIMIT)


def _chunked_complete(body: memoryview) -> bool | None:
    position = 0
    while True:
        line_end = bytes(body[position : position + 1024]).find(b"\r\n")
        if line_end < 0:
            return None if len(body) - position > 1024 else False
        size_text = bytes(body[position : position + line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        position += line_end + 2
        if size == 0:
            return bytes(body[position:]).startswith(b"\r\n") or b"\r\n\r\n" in bytes(body[position:])
        position += size + 2
        if position >= BUFFER_LIMIT:
            return True
        if position > len(body):
            return False


class ThreadWorker(GunicornThreadWorker):
    """gthread with requests read in full by the event loop (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_timeout = float(os.environ.get(TIMEOUT_VARIABLE) or DEFAULT_TIMEOUT)
        self.buffering: deque[TConn] = deque()

    def _buffer(self, conn: TConn) -> None:
        """Waits in the event loop for the rest of `conn`'s request."""
        if self.cfg.is_ssl:
            conn.data_ready = True
            super().enqueue_req(conn)
            return
        conn.sock.setblocking(False)
        conn.received = bytearray()  # type: ignore[attr-defined]
        conn.continued = False  # type: ignore[attr-defined]
        conn.timeout = time.monotonic() + self.request_timeout
        self.buffering.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: TConn, client: socket.socket) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.received += data  # type: ignore[attr-defined]
        complete = request_complete(bytes(conn.received))  # type: ignore[attr-defined]
        if complete is False:
            self._continue_if_expected(conn)
            return
        self.poller.unregister(conn.sock)
        self.buffering.remove(conn)
        conn.sock.setblocking(True)
        conn.init()
        conn.parser.unreader.unread(bytes(conn.received))  # type: ignore[attr-defined]
        del conn.received  # type: ignore[attr-defined]
        conn.data_ready = True
        super().enqueue_req(conn)

    def _continue_if_expected(self, conn: TConn) -> None:
        """A client that sent `Expect: 100-continue` waits for this before it sends the body."""
        received = bytes(conn.received)  # type: ignore[attr-defined]
        head_end = received.find(b"\r\n\r\n")
        if conn.continued or head_end < 0 or b"100-continue" not in received[:head_end].lower():  # type: ignore[attr-defined]
            return
        conn.continued = True  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            conn.sock.send(CONTINUE_RESPONSE)

    def _drop(self, conn: TConn, answer: bytes = b"") -> None:
        self.buffering.remove(conn)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        if answer:
            with contextlib.suppress(OSError):
                conn.sock.send(answer)
        self.nr_conns -= 1
        conn.close()

    def enqueue_req(self, conn: TConn) -> None:
        if conn.initialized and conn.parser is not None and conn.parser.unreader.buf.getvalue():
            super().enqueue_req(conn)  # the next request is already read (a drained body read ahead)
        else:
            self._buffer(conn)

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._buffer(TConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def murder_pending(self) -> None:
        """Also ends requests that did not arrive in time, and on a stop every request still arriving."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn in self.buffering if conn.timeout <= now or not self.alive]:
            self._drop(conn, REQUEST_TIMEOUT_RESPONSE if conn.received else b"")  # type: ignore[attr-defined]

    def run(self) -> None:
        super().run()
        # gunicorn's graceful stop is over (no request left, or the graceful timeout passed). Leave now:
        # exit handlers run (the embedded database's handle is released, the last one out stops it), but
        # not the interpreter's teardown, which joins threads still in a request and, on a busy box, takes
        # seconds past the master's patience (it would SIGKILL the worker, and the handle would stay).
        self.log.info("Worker exiting (pid: %s)", self.pid)
        with contextlib.suppress(Exception):
            self.tmp.close()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        atexit._run_exitfuncs()
        os._exit(0)
