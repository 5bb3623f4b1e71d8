"""The test database on a loopback TCP port: the embedded PostgreSQL (which has pgvector) listens on a Unix
socket only, while nodes reach "external" servers by host and port through the egress policy."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def tcp_to_unix(socket_dir: str, port: int) -> Iterator[int]:
    """Listens on 127.0.0.1:<free port> and forwards each connection to PostgreSQL's socket in
    `socket_dir`; yields the port."""
    path = os.path.join(socket_dir, f".s.PGSQL.{port}")
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(path)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
