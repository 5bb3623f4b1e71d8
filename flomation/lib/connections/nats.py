"""NATS servers (nats-py), shared by the NATS publish node and the connection's test.

nats-py is asynchronous: `drive` runs a coroutine on a private event loop in short steps from the calling
thread and calls `check` between them, so a node's timeout and cancellation stop it. Each server of the list
is tried in turn at the address the egress policy checked; with TLS its name stays the TLS server name.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "nats"
LABEL = "NATS"
FIELDS = (
    Field(
        "servers", required=True, description="nats://host:4222 (tls://host:4222 for TLS), comma-separated."
    ),
    Field("username"),
    Field("password", "secret"),
    Field("token", "secret", description="An authentication token (instead of a user and password)."),
)
_SCHEMES = {"nats": 4222, "tls": 4222}


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    async def connect_and_close() -> str:
        client, where = await open_client(fields, policy, timeout)
        await client.close()
        return where

    return f"connected to {drive(connect_and_close(), timeout=timeout + 1)}"


def drive(coroutine: Awaitable[Any], *, timeout: float, check: Callable[[], None] | None = None) -> Any:
    """Runs `coroutine` to its end on a new event loop, at most `timeout` seconds, calling `check` every
    tenth of a second (an exception from it cancels the coroutine and is raised)."""
    import asyncio

    loop = asyncio.new_event_loop()
    task = loop.create_task(coroutine)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    try:
        while not task.done():
            loop.run_until_complete(asyncio.wait([task], timeout=0.1))
            if task.done():
                break
            if check is not None:
                check()
            if time.monotonic() >= deadline:
                raise ConnectionFailed(f"timed out after {timeout:g} s")
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def servers_of(fields: dict[str, Any]) -> list[tuple[str, int, bool]]:
    """(host, port, tls) of each server in the list."""
    raw = fields.get("servers") or fields.get("url") or ""
    items = raw if isinstance(raw, list) else str(raw).replace("\n", ",").split(",")
    servers = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        parts = urlsplit(item if "://" in item else f"nats://{item}")
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise ConnectionFailed(f"a server must be nats://host:port or tls://host:port (got {scheme}://)")
        if parts.username or parts.password:
            raise ConnectionFailed("put the user and password in their own fields, not in the server URL")
        try:
            port = parts.port or _SCHEMES[scheme]
        except ValueError:
            raise ConnectionFailed("a server's port is not a number") from None
        servers.append((unquote(parts.hostname or ""), port, scheme == "tls"))
    if not servers:
        raise ConnectionFailed("set at least one server (nats://host:4222)")
    return servers


async def open_client(
    fields: dict[str, Any], policy: EgressPolicy, timeout: float, *, ca_certificate: str | None = None
) -> tuple[Any, str]:
    """A connected nats-py client and the server it reached. Raises EgressDenied when the policy refuses a
    server's host, ConnectionFailed when none can be reached (the last server's reason)."""
    import nats

    servers = servers_of(fields)
    failure = "no server"
    for host, port, tls in servers:
        where = f"{host}:{port}"
        try:
            addresses = policy.check_host(host, port)
        except OSError as error:
            failure = str(error)
            continue
        address = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
        seen: list[BaseException] = []

        async def record(error: BaseException, seen: list[BaseException] = seen) -> None:
            seen.append(error)

        options: dict[str, Any] = {
            "servers": [f"nats://{address}:{port}"],
            "connect_timeout": max(1, int(timeout)),
            "allow_reconnect": False,
            "max_reconnect_attempts": 1,
            "reconnect_time_wait": 0.05,
            "error_cb": record,
            "name": "flomation",
        }
        if fields.get("token"):
            options["token"] = str(fields["token"])
        elif fields.get("username"):
            options["user"] = str(fields["username"])
            options["password"] = str(fields.get("password") or "")
        if tls:
            import ssl

            try:
                options["tls"] = ssl.create_default_context(cadata=ca_certificate or None)
            except (ssl.SSLError, ValueError):
                raise ConnectionFailed("the CA certificate is not a PEM certificate") from None
            options["tls_hostname"] = host
        try:
            return await nats.connect(**options), where
        except Exception as error:
            failure = _failure(seen[-1] if seen else error, fields, where)
    raise ConnectionFailed(failure)


def _failure(error: BaseException, fields: dict[str, Any], where: str) -> str:
    import ssl

    text = str(error)
    if "Authorization" in text or type(error).__name__ == "AuthorizationError":
        who = "the token" if fields.get("token") else f"user '{fields.get('username') or ''}'"
        if not fields.get("token") and not fields.get("username"):
            who = "a client without credentials"
        return f"authentication failed at {where}: the server refused {who}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS: the certificate of {where} is not trusted ({error.verify_message or error.reason})"
    if isinstance(error, ssl.SSLError):
        return f"TLS with {where} failed ({getattr(error, 'reason', None) or error})"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused by {where} (is the server running on that port?)"
    if isinstance(error, TimeoutError):
        return f"timed out connecting to {where} (is it a NATS server?)"
    if isinstance(error, OSError):
        return f"cannot connect to {where}: {error.strerror or error}"
    return f"cannot connect to {where}: {text or type(error).__name__}"
