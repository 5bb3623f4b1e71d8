"""Redis connections (redis-py): the socket goes to the address the egress policy checked, while TLS
verifies the certificate against the name. `open_client` is shared by the `nosql/redis` node and `test`."""

from __future__ import annotations

from typing import Any

from flomation.lib.connections._common import port_of, scrub
from flomation.lib.connections.base import ConnectionFailed, Field
from flomation.lib.egress import EgressPolicy, connect

KIND = "redis"
LABEL = "Redis"
FIELDS = (
    Field("host", required=True, description="Server name or address."),
    Field("port", "integer", default=6379),
    Field("database", "integer", default=0, description="Database number."),
    Field("username", description="ACL user (blank: the default user)."),
    Field("password", "secret"),
    Field("tls", "boolean", default=False, description="Connect with TLS (the certificate is verified)."),
)


def _pinned_classes(addresses: list[str]) -> tuple[type, type]:
    """redis-py connection classes whose socket is opened to `addresses` only (never a new lookup)."""
    from redis.connection import Connection, SSLConnection

    class PinnedConnection(Connection):
        egress_addresses = addresses

        def _connect(self) -> Any:
            sock = connect(self.egress_addresses, self.port, timeout=self.socket_connect_timeout)
            sock.settimeout(self.socket_timeout)
            return sock

    class PinnedSSLConnection(SSLConnection, PinnedConnection):
        pass

    return PinnedConnection, PinnedSSLConnection


def open_client(fields: dict[str, Any], policy: EgressPolicy, *, timeout: float) -> Any:
    """A redis.Redis client (not yet connected) whose connections go to the checked addresses.

    Raises EgressDenied when the policy refuses the host, ConnectionFailed when the name does not resolve."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    host = str(fields.get("host") or "").strip()
    if not host:
        raise ConnectionFailed("no host given")
    port = port_of(fields.get("port"), 6379)
    try:
        addresses = policy.check_host(host, port)
    except OSError as error:
        raise ConnectionFailed(str(error)) from None
    if not addresses:
        raise ConnectionFailed("a unix socket is not a Redis server address here")
    try:
        database = int(fields.get("database") or 0)
    except (TypeError, ValueError):
        raise ConnectionFailed("database must be a number") from None
    plain, tls = _pinned_classes(addresses)
    pool = redis.ConnectionPool(
        connection_class=tls if _truthy(fields.get("tls")) else plain,
        host=host,
        port=port,
        db=database,
        username=str(fields.get("username") or "") or None,
        password=str(fields.get("password") or "") or None,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
        max_connections=2,
    )
    return redis.Redis(connection_pool=pool)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def describe_error(error: BaseException, fields: dict[str, Any]) -> str:
    """What failed (auth, refused, timeout, TLS, the command), never the password."""
    import redis

    user = str(fields.get("username") or "default")
    where = f"{fields.get('host')}:{fields.get('port') or 6379}"
    message = str(error)
    low = message.lower()
    if isinstance(error, redis.AuthenticationError) or "wrongpass" in low or "noauth" in low:
        text = f"authentication failed for user '{user}'"
    elif isinstance(error, redis.TimeoutError):
        if "connecting" in low and _truthy(fields.get("tls")):
            text = f"TLS failed with {where}: no handshake in time (does the server speak TLS on this port?)"
        else:
            text = f"timed out talking to {where}"
    elif isinstance(error, redis.ConnectionError):
        if "ssl" in low or "certificate" in low:
            text = f"TLS failed with {where}: {message[:200]}"
        elif "refused" in low:
            text = f"could not connect to {where}: connection refused"
        else:
            text = f"could not connect to {where}: {message[:200]}"
    else:
        text = f"Redis error: {message[:300]}"
    return scrub(text, fields)


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    import redis

    client = open_client(fields, policy, timeout=timeout)
    try:
        client.ping()
        version = client.info("server").get("redis_version", "?")
    except redis.RedisError as error:
        raise ConnectionFailed(describe_error(error, fields)) from None
    finally:
        client.close()
    return f"connected to Redis {version}"
