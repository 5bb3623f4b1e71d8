"""IMAP: reading a mailbox. `test` logs in through the egress policy and lists nothing else.

`security` is `tls` (implicit TLS, port 993), `starttls` (plain, then upgraded, port 143) or `none`.
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
from typing import Any

from flomation.lib.connections.base import ConnectionFailed, Field
from flomation.lib.egress import EgressDenied, EgressPolicy
from flomation.lib.egress import connect as egress_connect

KIND = "imap"
LABEL = "IMAP (read email)"
SECURITY = ("tls", "starttls", "none")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}
FIELDS = (
    Field("host", required=True, description="The mail server's name, e.g. imap.example.com."),
    Field("port", "integer", description="Empty: 993 for TLS, 143 for STARTTLS or none."),
    Field("username", required=True),
    Field("password", "secret"),
    Field("security", "choice", default="tls", options=SECURITY, description="How the link is encrypted."),
)


class _PinnedIMAP(imaplib.IMAP4):
    """IMAP connected to the checked addresses; `host` stays the name (STARTTLS checks the certificate)."""

    def __init__(self, addresses: list[str], host: str, port: int, timeout: float) -> None:
        self._addresses = addresses
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return egress_connect(self._addresses, self.port, timeout=timeout)


class _PinnedIMAPSSL(_PinnedIMAP, imaplib.IMAP4_SSL):
    def __init__(self, addresses: list[str], host: str, port: int, timeout: float) -> None:
        self._addresses = addresses
        imaplib.IMAP4_SSL.__init__(
            self, host, port, ssl_context=ssl.create_default_context(), timeout=timeout
        )

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = egress_connect(self._addresses, self.port, timeout=timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def open_client(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> imaplib.IMAP4:
    """A logged-in IMAP client. Raises EgressDenied or ConnectionFailed (never with the password)."""
    host = str(fields.get("host") or "").strip()
    username = str(fields.get("username") or "")
    if not host or not username:
        raise ConnectionFailed("set the IMAP host and username")
    security = str(fields.get("security") or "tls").strip().lower()
    security = "tls" if security == "ssl" else security
    if security not in SECURITY:
        raise ConnectionFailed(f"security must be one of {', '.join(SECURITY)} (got {security[:20]!r})")
    try:
        port = int(fields.get("port") or DEFAULT_PORTS[security])
    except (TypeError, ValueError):
        raise ConnectionFailed("the IMAP port must be a number") from None
    where = f"{host}:{port}"
    try:
        addresses = policy.check_host(host, port)
    except EgressDenied:
        raise
    except OSError as error:
        raise ConnectionFailed(f"DNS: {error}") from None
    client: imaplib.IMAP4 | None = None
    try:
        if security == "tls":
            client = _PinnedIMAPSSL(addresses, host, port, timeout)
        else:
            client = _PinnedIMAP(addresses, host, port, timeout)
            if security == "starttls":
                client.starttls(ssl.create_default_context())
        client.login(username, str(fields.get("password") or ""))
        return client
    except imaplib.IMAP4.error as error:
        _close(client)
        text = str(error)[:200]
        if "auth" in text.lower() or "login" in text.lower() or "credential" in text.lower():
            raise ConnectionFailed(
                f"authentication failed for user {username!r} on {where} ({text})"
            ) from None
        raise ConnectionFailed(f"the IMAP server {where} refused: {text}") from None
    except ssl.SSLError as error:
        _close(client)
        raise ConnectionFailed(f"TLS with {where} failed: {error.reason or error}") from None
    except TimeoutError:
        _close(client)
        raise ConnectionFailed(f"timed out talking to {where}") from None
    except ConnectionRefusedError:
        _close(client)
        raise ConnectionFailed(f"connection refused by {where}") from None
    except OSError as error:
        _close(client)
        raise ConnectionFailed(f"cannot reach {where}: {error}") from None


def _close(client: imaplib.IMAP4 | None) -> None:
    if client is not None:
        with contextlib.suppress(OSError):
            client.shutdown()


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    try:
        client = open_client(fields, policy, timeout)
    except EgressDenied as refused:
        raise ConnectionFailed(str(refused)) from None
    try:
        client.logout()
    except (imaplib.IMAP4.error, OSError):
        _close(client)
    return f"logged in to {fields.get('host')} as {fields.get('username')}"
