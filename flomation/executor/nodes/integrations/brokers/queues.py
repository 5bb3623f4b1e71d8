"""Publishing to the sources a queue reader consumes: RabbitMQ (AMQP), Redis streams and NATS.

`messagebrokers/amqp/publish` speaks kombu, the library the queue trigger reads with, so a message published
to a queue here starts that trigger's flow with the same body (JSON stays JSON). Each node checks its host
through the egress policy and connects to the checked address.
"""

from __future__ import annotations

import contextlib
import json

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from flomation.executor.engine.context import NodeContext

CATEGORY = "messagebrokers"
CONNECT_SECONDS = 15.0


@contextlib.contextmanager
def _failures(ctx: NodeContext, service: str) -> Iterator[None]:
    """Egress refusals and connection failures become the node's error (never naming a secret)."""
    from flomation.lib.connections import ConnectionFailed
    from flomation.lib.egress import EgressDenied

    try:
        yield
    except EgressDenied as error:
        ctx.egress_refused(error)
        raise NodeError(str(error)) from None
    except ConnectionFailed as error:
        raise NodeError(f"{service}: {error}") from None


def _body(value: Any) -> tuple[bytes, str]:
    """The bytes sent and their content type: text as it is, other values as JSON."""
    if value is None:
        return b"", "text/plain"
    if isinstance(value, str):
        return value.encode("utf-8"), "text/plain"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), "application/json"


def _headers(value: Any) -> dict[str, str]:
    from flomation.executor.coerce import to_pairs, to_str

    if value in (None, "", [], {}):
        return {}
    try:
        return {str(k): to_str(v) for k, v in to_pairs(value)}
    except ValueError as error:
        raise NodeError(f"input 'headers' {error}") from None


# --- AMQP --------------------------------------------------------------------------------------------------


@node(
    "messagebrokers/amqp/publish",
    name="AMQP Publish",
    category=CATEGORY,
    description="Publish a message to a RabbitMQ queue or exchange; waits for the broker's confirmation.",
    inputs=(
        connection_input("amqp"),
        Input("url", "secret", description="amqp://user:password@host:5672/vhost (or the fields below)."),
        Input("host", "string", description="The broker's host (when no connection or URL is given)."),
        Input("port", "integer", description="The broker's port: 5672, or 5671 with TLS."),
        Input("username", "string", description="The user (default guest)."),
        Input("password", "secret", description="The user's password."),
        Input("virtual_host", "string", description="The virtual host (default /)."),
        Input("tls", "boolean", description="Connect with TLS; the broker's certificate is checked."),
        Input("queue", "string", description="Publish to this queue (declared durable if it does not exist yet)."),
        Input("exchange", "string", default="", description="Or publish to this exchange (blank: the default exchange)."),
        Input("routing_key", "string", description="The routing key (default: the queue's name)."),
        Input("payload", "any", description="The message: text as it is, an object or list as JSON."),
        Input("content_type", "string", description="Overrides the content type (text/plain or application/json by default)."),
        Input("headers", "key_value_array", description="Message headers."),
        Input("message_id", "string", description="The message id (the queue trigger starts one run per id). Blank: the node's idempotency key, the same when a run goes on after a lost runner."),
        Input("persistent", "boolean", default=True, description="Kept on disk by the broker (survives a restart)."),
    ),
    outputs=("success:boolean", "exchange:string", "routing_key:string", "message_id:string",
             "payload_bytes:integer"),
    idempotent=False,
)  # fmt: skip
def amqp_publish(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections.amqp import open_connection

    queue = str(inputs.get("queue") or "")
    exchange = str(inputs.get("exchange") or "")
    routing_key = str(inputs.get("routing_key") or queue)
    if not queue and not exchange:
        raise NodeError("set the queue to publish to, or an exchange")
    body, content_type = _body(inputs.get("payload"))
    fields = connection_fields(
        ctx,
        inputs,
        "amqp",
        inline=("url", "host", "port", "username", "password", "virtual_host", "tls"),
        secret=("url", "password"),
    )
    message_id = str(inputs.get("message_id") or "") or ctx.idempotency_key

    def publish() -> None:
        from kombu import Exchange, Producer, Queue

        connection, _target = open_connection(fields, ctx.egress, ctx.remaining(CONNECT_SECONDS) or 0.5)
        try:
            channel = connection.channel()
            if queue:
                Queue(queue, channel=channel, durable=True).declare()
            producer = Producer(channel, exchange=Exchange(exchange, channel=channel), auto_declare=False)
            producer.publish(
                body,
                routing_key=routing_key,
                content_type=str(inputs.get("content_type") or content_type),
                content_encoding="utf-8",
                headers=_headers(inputs.get("headers")),
                delivery_mode=2 if inputs.get("persistent") is not False else 1,
                **({"message_id": message_id} if message_id else {}),
            )
        except Exception as error:
            raise NodeError(f"AMQP: publishing failed: {_amqp_reason(error)}") from None
        finally:
            connection.release()

    with _failures(ctx, "AMQP"):
        ctx.call_blocking(publish)
    return {"success": True, "exchange": exchange, "routing_key": routing_key, "message_id": message_id,
            "payload_bytes": len(body)}  # fmt: skip


def _amqp_reason(error: Exception) -> str:
    reply = getattr(error, "reply_text", None)
    return str(reply) if reply else f"{type(error).__name__}: {error}"


# --- Redis streams -----------------------------------------------------------------------------------------


def _redis_client(fields: dict[str, Any], ctx: NodeContext) -> Any:
    """A redis-py client whose connections go to the addresses the egress policy checked; with TLS the
    host's name is the server name its certificate is checked against."""
    import redis
    from redis.connection import Connection, SSLConnection

    from flomation.lib.connections import ConnectionFailed
    from flomation.lib.egress import connect

    host = str(fields.get("host") or "").strip()
    if not host:
        raise ConnectionFailed("set the Redis host")
    tls = str(fields.get("tls") or "").lower() in ("1", "true", "yes", "on") or fields.get("tls") is True
    try:
        port = int(fields.get("port") or 6379)
    except (TypeError, ValueError):
        raise ConnectionFailed("the port must be a number") from None
    try:
        addresses = ctx.egress.check_host(host, port)
    except OSError as error:
        raise ConnectionFailed(str(error)) from None

    def pinned_socket(connection: Any) -> Any:
        sock = connect(addresses, connection.port, timeout=connection.socket_connect_timeout)
        sock.settimeout(connection.socket_timeout)
        return sock

    class PinnedConnection(Connection):
        def _connect(self) -> Any:
            return pinned_socket(self)

    class PinnedSSLConnection(SSLConnection):
        def _connect(self) -> Any:
            sock = pinned_socket(self)
            try:
                return self._wrap_socket_with_ssl(sock)
            except BaseException:
                sock.close()
                raise

    timeout = ctx.remaining(CONNECT_SECONDS) or 0.5
    pool = redis.ConnectionPool(
        connection_class=PinnedSSLConnection if tls else PinnedConnection,
        host=host,
        port=port,
        db=int(fields.get("database") or 0),
        username=str(fields.get("username") or "") or None,
        password=str(fields.get("password") or "") or None,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        max_connections=1,
    )
    return redis.Redis(connection_pool=pool)


def _redis_reason(error: Exception, fields: dict[str, Any], where: str) -> str:
    import redis

    text = str(error)
    if isinstance(error, redis.AuthenticationError) or "WRONGPASS" in text or "NOAUTH" in text:
        user = fields.get("username") or "default"
        return f"authentication failed for user '{user}' at {where}"
    if isinstance(error, redis.TimeoutError):
        return f"timed out talking to {where}"
    if isinstance(error, redis.ConnectionError):
        if "refused" in text.lower():
            return f"connection refused by {where}"
        return f"cannot connect to {where}: {text}"
    return f"{type(error).__name__}: {text}"


@node(
    "messagebrokers/redis/stream_add",
    name="Redis Stream Add",
    category=CATEGORY,
    description="Append an entry to a Redis stream (XADD), optionally trimming the stream's length.",
    inputs=(
        connection_input("redis"),
        Input("host", "string", description="The Redis host (when no connection is picked)."),
        Input("port", "integer", description="The Redis port (default 6379)."),
        Input("database", "integer", description="The database number (default 0)."),
        Input("username", "string", description="The ACL user (blank: default)."),
        Input("password", "secret", description="The password."),
        Input("tls", "boolean", description="Connect with TLS; the server's certificate is checked."),
        Input("stream", "string", required=True, description="The stream's key."),
        Input("fields", "object", description="The entry's fields; values that are not text are stored as JSON."),
        Input("payload", "any", description="Or one value, stored in the field 'payload'."),
        Input("max_length", "integer", description="Trim the stream to about this many entries (blank: no trim)."),
    ),
    outputs=("success:boolean", "id:string", "stream:string", "length:integer"),
    idempotent=False,
)  # fmt: skip
def redis_stream_add(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections import ConnectionFailed

    stream = str(inputs.get("stream") or "")
    if not stream:
        raise NodeError("input 'stream' is required")
    entry = dict(inputs.get("fields") or {})
    if inputs.get("payload") is not None:
        entry["payload"] = inputs["payload"]
    if not entry:
        raise NodeError("set the entry's fields (or a payload)")
    values = {
        str(k): v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in entry.items()
    }
    fields = connection_fields(ctx, inputs, "redis", inline=("host", "port", "database", "username", "password", "tls"),
                               secret=("password",))  # fmt: skip
    max_length = inputs.get("max_length")
    with _failures(ctx, "Redis"):
        client = _redis_client(fields, ctx)
        where = f"{fields.get('host')}:{fields.get('port') or 6379}"

        def add() -> tuple[str, int]:
            try:
                entry_id = client.xadd(
                    stream, values, maxlen=int(max_length) if max_length else None, approximate=True
                )
                return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id), int(
                    client.xlen(stream)
                )
            except Exception as error:
                raise ConnectionFailed(_redis_reason(error, fields, where)) from None
            finally:
                client.close()

        entry_id, length = ctx.call_blocking(add, on_abort=client.close)
    return {"success": True, "id": entry_id, "stream": stream, "length": length}


# --- NATS --------------------------------------------------------------------------------------------------


@node(
    "messagebrokers/nats/publish",
    name="NATS Publish",
    category=CATEGORY,
    description="Publish a message to a NATS subject; waits until the server has it.",
    inputs=(
        connection_input("nats"),
        Input("servers", "string", description="nats://host:4222 (tls://... for TLS), comma-separated."),
        Input("username", "string", description="The user (or use a token)."),
        Input("password", "secret", description="The user's password."),
        Input("token", "secret", description="An authentication token."),
        Input(
            "ca_certificate", "text", description="A PEM CA certificate, for servers whose certificate it signed."
        ),
        Input("subject", "string", required=True, description="The subject to publish to."),
        Input("payload", "any", description="The message: text as it is, an object or list as JSON."),
        Input("headers", "key_value_array", description="Message headers (NATS 2.2 and later)."),
        Input("reply_to", "string", description="A subject the receiver may answer on."),
    ),
    outputs=("success:boolean", "subject:string", "payload_bytes:integer"),
    idempotent=False,
)  # fmt: skip
def nats_publish(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections.nats import drive, open_client

    subject = str(inputs.get("subject") or "")
    if not subject or any(c in subject for c in " \t\r\n*>"):
        raise NodeError("input 'subject' must be one subject (no spaces, no wildcards * or >)")
    body, _ = _body(inputs.get("payload"))
    headers = _headers(inputs.get("headers"))
    # JetStream drops a second message with the same Nats-Msg-Id (within its window): a repeat of this
    # node (a retry, a run going on after a lost runner) is stored once.
    headers.setdefault("Nats-Msg-Id", ctx.idempotency_key)
    fields = connection_fields(ctx, inputs, "nats", inline=("servers", "username", "password", "token"),
                               secret=("password", "token"))  # fmt: skip
    timeout = ctx.remaining(CONNECT_SECONDS) or 0.5

    async def publish() -> None:
        client, _where = await open_client(
            fields, ctx.egress, timeout, ca_certificate=inputs.get("ca_certificate")
        )
        try:
            await client.publish(subject, body, reply=str(inputs.get("reply_to") or ""), headers=headers)
            await client.flush(timeout=max(1, int(timeout)))
        finally:
            await client.close()

    with _failures(ctx, "NATS"):
        drive(publish(), timeout=timeout * 2 + 1, check=ctx.check)
    return {"success": True, "subject": subject, "payload_bytes": len(body)}
