"""AMQP 0-9-1 brokers (RabbitMQ), through kombu and py-amqp: the library the queue trigger reads with, so a
message published here reaches that trigger with its content type intact.

A connection is given as a URL (amqp:// or amqps://, with the user, password and virtual host in it) or as
host, port, username, password and virtual_host. The client connects to the address the egress policy
checked; with TLS the broker's name stays the server name its certificate is checked against.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any
from urllib.parse import unquote, urlsplit

from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "amqp"
LABEL = "AMQP (RabbitMQ)"
FIELDS = (
    Field("url", "secret", description="amqp://user:password@host:5672/vhost (or fill in the fields below)."),
    Field("host", description="The broker's host name or address."),
    Field("port", "integer", default=5672, description="5672, or 5671 with TLS."),
    Field("username", default="guest"),
    Field("password", "secret"),
    Field("virtual_host", default="/", description="The virtual host (RabbitMQ's default is /)."),
    Field(
        "tls", "boolean", default=False, description="Connect with TLS (amqps); the certificate is checked."
    ),
)
_SCHEMES = {"amqp": 5672, "pyamqp": 5672, "amqps": 5671}


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    connection, target = open_connection(fields, policy, timeout)
    connection.release()
    return (
        f"connected to {target['where']} (virtual host '{target['virtual_host']}') as '{target['username']}'"
    )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def target_of(fields: dict[str, Any]) -> dict[str, Any]:
    """host, port, username, password, virtual_host and tls, from the URL or the separate fields."""
    url = str(fields.get("url") or "").strip()
    if url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise ConnectionFailed(
                f"the URL must start with amqp:// or amqps:// (got {scheme or 'no'} scheme)"
            )
        try:
            port = parts.port or _SCHEMES[scheme]
        except ValueError:
            raise ConnectionFailed("the URL's port is not a number") from None
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        return {
            "host": unquote(parts.hostname or ""),
            "port": port,
            "username": unquote(parts.username or "") or "guest",
            "password": unquote(parts.password or "") or ("guest" if not parts.username else ""),
            "virtual_host": unquote(path) or "/",
            "tls": scheme == "amqps",
        }
    tls = _flag(fields.get("tls"))
    try:
        port = int(fields.get("port") or (5671 if tls else 5672))
    except (TypeError, ValueError):
        raise ConnectionFailed("the port must be a number") from None
    return {
        "host": str(fields.get("host") or "").strip(),
        "port": port,
        "username": str(fields.get("username") or "guest"),
        "password": str(fields.get("password") or ("guest" if not fields.get("username") else "")),
        "virtual_host": str(fields.get("virtual_host") or "/"),
        "tls": tls,
    }


def open_connection(
    fields: dict[str, Any], policy: EgressPolicy, timeout: float
) -> tuple[Any, dict[str, Any]]:
    """A connected kombu Connection (publisher confirms on) and what it connected to.

    Raises EgressDenied when the policy refuses the host, ConnectionFailed for anything else."""
    from kombu import Connection

    target = target_of(fields)
    host, port = target["host"], target["port"]
    if not host:
        raise ConnectionFailed("set the broker's host (or a URL)")
    where = target["where"] = f"{host}:{port}"
    try:
        addresses = policy.check_host(host, port)
    except OSError as error:
        raise ConnectionFailed(str(error)) from None
    if not addresses:
        raise ConnectionFailed(f"{host} is not a network address")
    ssl_options: Any = False
    if target["tls"]:
        ssl_options = {"server_hostname": host, "context": {"check_hostname": True}}
    connection = Connection(
        hostname=addresses[0],
        port=port,
        userid=target["username"],
        password=target["password"],
        virtual_host=target["virtual_host"],
        transport="pyamqp",
        ssl=ssl_options,
        connect_timeout=timeout,
        transport_options={"confirm_publish": True},
    )
    try:
        connection.connect()
    except Exception as error:
        connection.release()
        raise ConnectionFailed(_failure(error, target, where)) from None
    return connection, target


def _failure(error: Exception, target: dict[str, Any], where: str) -> str:
    from amqp import exceptions as amqp_errors

    if isinstance(error, amqp_errors.AccessRefused):
        return f"authentication failed for user '{target['username']}' at {where}"
    if isinstance(error, amqp_errors.NotAllowed):
        return f"user '{target['username']}' may not use virtual host '{target['virtual_host']}' at {where}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS: the certificate of {where} is not trusted ({error.verify_message or error.reason})"
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake with {where} failed ({error.reason or error})"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused by {where} (is the broker running on that port?)"
    if isinstance(error, TimeoutError | socket.timeout):
        return f"timed out connecting to {where}"
    if isinstance(error, OSError):
        return f"cannot connect to {where}: {error.strerror or error}"
    return f"cannot connect to {where}: {type(error).__name__}"
