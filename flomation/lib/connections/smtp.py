"""SMTP: sending mail. The client is opened here, through the egress policy, for the email nodes as well.

`security` is `starttls` (connect in plain text, then upgrade; refused if the server does not offer it),
`tls` (implicit TLS from the first byte, usually port 465) or `none`. Flows from Flomation that only say
`use_tls: false` get `auto`: STARTTLS when the server offers it, else plain text but never a password. The connection goes to the addresses
the policy checked, never to the name again; certificates are checked against the name.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from typing import Any

from flomation.lib.connections.base import ConnectionFailed, Field
from flomation.lib.egress import EgressDenied, EgressPolicy
from flomation.lib.egress import connect as egress_connect

KIND = "smtp"
LABEL = "SMTP (send email)"
SECURITY = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25, "auto": 587}
FIELDS = (
    Field("host", required=True, description="The mail server's name, e.g. smtp.example.com."),
    Field("port", "integer", description="Empty: 587 for STARTTLS, 465 for implicit TLS, 25 for none."),
    Field("username", description="Leave empty for a server that needs no login."),
    Field("password", "secret"),
    Field(
        "security", "choice", default="starttls", options=SECURITY, description="How the link is encrypted."
    ),
    Field("from_address", description="The sender used when a node does not name one."),
)


class _PinnedSMTP(smtplib.SMTP):
    """SMTP connected to checked addresses; `_host` stays the name (STARTTLS checks the certificate by it)."""

    def __init__(self, addresses: list[str], **kwargs: Any) -> None:
        self._addresses = addresses
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return egress_connect(self._addresses, port, timeout=timeout)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    def __init__(self, addresses: list[str], **kwargs: Any) -> None:
        self._addresses = addresses
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = egress_connect(self._addresses, port, timeout=timeout)
        return self.context.wrap_socket(sock, server_hostname=self._host)


def settings_of(fields: dict[str, Any]) -> tuple[str, int, str]:
    """(host, port, security) from a connection's fields, with the port defaulting by security."""
    host = str(fields.get("host") or "").strip()
    if not host:
        raise ConnectionFailed("no SMTP host is set")
    security = str(fields.get("security") or "starttls").strip().lower()
    if security in ("ssl", "implicit"):
        security = "tls"
    if security not in DEFAULT_PORTS:
        raise ConnectionFailed(f"security must be one of {', '.join(SECURITY)} (got {security[:20]!r})")
    try:
        port = int(fields.get("port") or DEFAULT_PORTS[security])
    except (TypeError, ValueError):
        raise ConnectionFailed("the SMTP port must be a number") from None
    return host, port, security


def open_client(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> smtplib.SMTP:
    """A connected, encrypted (as configured) and logged-in SMTP client.

    Raises EgressDenied when the policy refuses the host, ConnectionFailed for anything else (DNS, refused,
    timeout, TLS, authentication), with a message that never carries the password."""
    host, port, security = settings_of(fields)
    where = f"{host}:{port}"
    try:
        addresses = policy.check_host(host, port)
    except EgressDenied:
        raise
    except OSError as error:
        raise ConnectionFailed(f"DNS: {error}") from None
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if security == "tls":
            client = _PinnedSMTPSSL(addresses, host=host, port=port, timeout=timeout, context=context)
        else:
            client = _PinnedSMTP(addresses, host=host, port=port, timeout=timeout)
        client.ehlo()
        username = str(fields.get("username") or "")
        offered = client.has_extn("starttls")
        if security == "starttls" and not offered:
            raise ConnectionFailed(f"the SMTP server {where} does not offer STARTTLS")
        if security == "auto" and not offered and username:
            raise ConnectionFailed(
                f"the SMTP server {where} does not offer STARTTLS: the password is not sent unencrypted "
                "(set security to none to allow it)"
            )
        if security == "starttls" or (security == "auto" and offered):
            client.starttls(context=context)
            client.ehlo()
        if username:
            client.login(username, str(fields.get("password") or ""))
        return client
    except BaseException as error:
        if client is not None:
            client.close()
        if isinstance(error, ConnectionFailed):
            raise
        failed = describe(error, where, str(fields.get("username") or ""))
        if failed is None:
            raise
        raise failed from None


def describe(error: BaseException, where: str, username: str = "") -> ConnectionFailed | None:
    """What went wrong talking to the SMTP server, as a sentence (None: not a connection problem)."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return ConnectionFailed(
            f"authentication failed for user {username!r} on {where} ({error.smtp_code}: {_said(error)})"
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return ConnectionFailed(f"the SMTP server {where} does not offer a login (AUTH): {error}")
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return ConnectionFailed(f"TLS with {where} failed: {getattr(error, 'reason', None) or error}")
    if isinstance(error, smtplib.SMTPResponseException):
        return ConnectionFailed(f"the SMTP server {where} answered {error.smtp_code}: {_said(error)}")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return ConnectionFailed(f"the SMTP server {where} closed the connection ({error})")
    if isinstance(error, TimeoutError | socket.timeout):
        return ConnectionFailed(f"timed out talking to {where}")
    if isinstance(error, ConnectionRefusedError):
        return ConnectionFailed(f"connection refused by {where}")
    if isinstance(error, OSError | smtplib.SMTPException):
        return ConnectionFailed(f"cannot reach {where}: {error}")
    return None


def _said(error: smtplib.SMTPResponseException) -> str:
    message = error.smtp_error
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return text[:200]


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    try:
        client = open_client(fields, policy, timeout)
    except EgressDenied as refused:
        raise ConnectionFailed(str(refused)) from None
    try:
        host, port, security = settings_of(fields)
        login = f" as {fields.get('username')}" if fields.get("username") else ""
        how = {"starttls": "STARTTLS", "tls": "TLS", "none": "no encryption", "auto": "STARTTLS if offered"}[
            security
        ]
        return f"connected to {host}:{port} ({how}){login}"
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
