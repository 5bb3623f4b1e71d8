"""A run's egress proxy: the only way out of a script sandbox whose network the operator allows.

Listens on a unix socket that is bound into the run's sandboxes (and nowhere else); the relay inside
(``netrelay.py``) hands it every connection a script makes to its proxy port. It speaks HTTP proxying:
``CONNECT host:port`` (HTTPS and any other TCP protocol tunnelled by a client that supports it) and plain
``GET http://host/...`` requests. Each destination goes through the run's egress policy exactly as a node's
connection does: the name is resolved, every address checked, and the connection made to a checked address,
so loopback, private ranges, cloud metadata and the platform's own database and API stay out of reach unless
an operator allowed them. A refusal answers ``403`` with the reason and is logged once with the run.
Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from urllib.parse import urlsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from flomation.lib.egress import EgressDenied, EgressPolicy

MAX_HEADER_BYTES = 64 * 1024
MAX_CONNECTIONS = 64
CONNECT_TIMEOUT = 15.0
IDLE_TIMEOUT = 300.0
_HOP_BY_HOP = {b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive"}


class EgressProxy:
    """Serves ``path`` until closed; ``on_refused`` is told of every refused destination."""

    def __init__(
        self,
        path: str,
        policy: EgressPolicy,
        *,
        on_refused: Callable[[EgressDenied], None] | None = None,
        owner: int | None = None,
    ) -> None:
        self.path = path
        self._policy = policy
        self._on_refused = on_refused
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        if owner is not None:  # the run's own uid (root executor): nobody else may connect
            os.chown(path, owner, owner)
        os.chmod(path, 0o600)
        self._listener.listen(64)
        threading.Thread(target=self._accept, name="flomation-egress-proxy", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets = [self._listener, *self._open]
            self._open.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    # --- connections ----------------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._track(client):
                client.close()
                return
            if not self._slots.acquire(blocking=False):
                self._answer(client, 503, "egress proxy: too many connections from this run at once")
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._open.add(sock)
            return True

    def _forget(self, *sockets: socket.socket) -> None:
        with self._lock:
            for sock in sockets:
                self._open.discard(sock)
        for sock in sockets:
            sock.close()

    def _answer(self, client: socket.socket, status: int, reason: str) -> None:
        text = {403: "Forbidden", 400: "Bad Request", 502: "Bad Gateway", 503: "Service Unavailable"}
        body = f"{reason}\n".encode()
        head = f"HTTP/1.1 {status} {text.get(status, 'Error')}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        with contextlib.suppress(OSError):
            client.sendall(head.encode() + body)
        self._forget(client)

    def _serve(self, client: socket.socket) -> None:
        try:
            self._handle(client)
        except Exception:  # a broken connection ends only itself
            self._forget(client)
        finally:
            self._slots.release()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(30)
        head, rest = _read_head(client)
        if head is None:
            self._answer(client, 400, "egress proxy: the request did not end its headers within 64 KiB")
            return
        request_line, _, headers = head.partition(b"\r\n")
        parts = request_line.split(b" ")
        if len(parts) != 3:
            self._answer(client, 400, "egress proxy: not an HTTP proxy request")
            return
        method, target, version = parts
        if method == b"CONNECT":
            host, port = _authority(target.decode("latin-1"), default_port=443)
            forward = b""
        else:
            url = urlsplit(target.decode("latin-1"))
            if url.scheme != "http" or not url.hostname:
                self._answer(
                    client, 400, "egress proxy: only http:// URLs and CONNECT tunnels go through this proxy"
                )
                return
            host, port = url.hostname, url.port or 80
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            forward = b" ".join((method, path.encode("latin-1"), version)) + b"\r\n"
            forward += _end_to_end(headers) + b"Connection: close\r\n\r\n" + rest
        if host is None:
            self._answer(client, 400, "egress proxy: the destination has no host or port")
            return
        upstream = self._open_upstream(client, host, port)
        if upstream is None:
            return
        if method == b"CONNECT":
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            forward = rest
        if forward:
            upstream.sendall(forward)
        _splice(client, upstream)
        self._forget(client, upstream)

    def _open_upstream(self, client: socket.socket, host: str, port: int) -> socket.socket | None:
        from flomation.lib.egress import EgressDenied, connect

        try:
            addresses = self._policy.check_host(host, port)
        except EgressDenied as refused:
            if self._on_refused is not None:
                with contextlib.suppress(Exception):
                    self._on_refused(refused)
            self._answer(client, 403, str(refused))
            return None
        except (OSError, ValueError):
            self._answer(client, 502, f"egress proxy: cannot resolve {host[:120]}")
            return None
        if not addresses:  # a unix socket path the policy allowed: not something a proxy reaches
            self._answer(client, 400, "egress proxy: the destination is not a network address")
            return None
        try:
            upstream = connect(addresses, port, timeout=CONNECT_TIMEOUT)
        except OSError as error:
            self._answer(
                client,
                502,
                f"egress proxy: cannot connect to {host[:120]} port {port} ({error.strerror or error})",
            )
            return None
        if not self._track(upstream):
            upstream.close()
            self._forget(client)
            return None
        return upstream


def _read_head(client: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEADER_BYTES:
            return None, b""
        chunk = client.recv(8192)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _authority(text: str, *, default_port: int) -> tuple[str | None, int]:
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:
        host, port = text, str(default_port)
    host = host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        return None, 0
    return (host or None), number


def _end_to_end(headers: bytes) -> bytes:
    kept = b""
    for line in headers.split(b"\r\n"):
        name = line.partition(b":")[0].strip().lower()
        if line and name not in _HOP_BY_HOP:
            kept += line + b"\r\n"
    return kept


def _splice(client: socket.socket, upstream: socket.socket) -> None:
    from flomation.executor.sandbox.netrelay import pipe

    client.settimeout(IDLE_TIMEOUT)
    upstream.settimeout(IDLE_TIMEOUT)
    back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
    back.start()
    pipe(client, upstream)
    back.join()
