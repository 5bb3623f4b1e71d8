"""nosql/redis: one node for the everyday Redis commands (keys, counters, hashes, lists, publish)."""

from __future__ import annotations

import json

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations._common import refused, timeout_of
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

OPERATIONS = (
    "get",
    "set",
    "del",
    "incr",
    "expire",
    "hget",
    "hset",
    "hgetall",
    "lpush",
    "rpush",
    "lpop",
    "rpop",
    "lrange",
    "publish",
)
_NEEDS_VALUE = {"set", "hset", "lpush", "rpush", "publish"}


@node(
    "nosql/redis",
    name="Redis",
    category="database",
    description="Get, set, delete, count, expire, hash and list commands, or publish a message, on Redis.",
    inputs=(
        connection_input("redis"),
        Input("host", "string", description="Server name or address (when no connection is picked)."),
        Input("port", "integer", default=6379, description="Server port."),
        Input("username", "string", description="ACL user (blank: the default user)."),
        Input("password", "secret", description="The password (use ${secrets.NAME})."),
        Input("database", "integer", default=0, description="Database number."),
        Input("tls", "boolean", default=False, description="Connect with TLS (the certificate is verified)."),
        Input(
            "operation",
            "string",
            required=True,
            default="get",
            options=OPERATIONS,
            description="The command to run.",
        ),
        Input("key", "string", description="The key (for publish: the channel)."),
        Input(
            "value",
            "any",
            description="What to store, push or publish (objects are stored as JSON; an array pushes each "
            "item; for hset an object sets several fields); for incr, the amount (default 1).",
        ),
        Input("field", "string", description="The hash field (hget, hset)."),
        Input(
            "ttl_seconds",
            "integer",
            description="Expiry in seconds: for set, the key's lifetime; for expire, the new one.",
        ),
        Input("start", "integer", default=0, description="lrange: first index."),
        Input("stop", "integer", default=-1, description="lrange: last index (-1: the end)."),
        Input(
            "timeout_seconds", "number", default=10, description="Time limit for the command (at most 300)."
        ),
    ),
    outputs=("result:any", "found:boolean", "success:boolean"),
    idempotent=False,
)
def redis_command(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections import redis as kind
    from flomation.lib.connections.base import ConnectionFailed
    from flomation.lib.egress import EgressDenied

    operation = inputs["operation"]
    key = inputs.get("key") or ""
    if not key:
        raise NodeError(f"input 'key' is required for {operation}")
    if operation in _NEEDS_VALUE and inputs.get("value") is None:
        raise NodeError(f"input 'value' is required for {operation}")
    if operation in ("hget",) and not inputs.get("field"):
        raise NodeError("input 'field' is required for hget")
    if operation == "hset" and not inputs.get("field") and not isinstance(_parsed(inputs["value"]), dict):
        raise NodeError("hset needs input 'field', or an object of fields in 'value'")
    if operation == "expire" and not inputs.get("ttl_seconds"):
        raise NodeError("input 'ttl_seconds' is required for expire")
    fields = connection_fields(
        ctx,
        inputs,
        "redis",
        inline=("host", "port", "database", "username", "password", "tls"),
        secret=("password",),
    )
    timeout = timeout_of(ctx, inputs)
    try:
        client = kind.open_client(fields, ctx.egress, timeout=timeout)
    except EgressDenied as error:
        refused(ctx, error)
    except ConnectionFailed as error:
        raise NodeError(str(error)) from None
    try:
        result = ctx.call_blocking(lambda: _run(client, operation, key, inputs), on_abort=client.close)
    except Exception as error:
        if not type(error).__module__.startswith("redis"):
            raise
        raise NodeError(kind.describe_error(error, fields)) from None
    finally:
        client.close()
    found = result is not None and result != {} and result != []
    return {"result": result, "found": found, "success": True}


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _run(client: Any, operation: str, key: str, inputs: dict[str, Any]) -> Any:
    value = inputs.get("value")
    ttl = inputs.get("ttl_seconds")
    if operation == "get":
        return client.get(key)
    if operation == "set":
        return bool(client.set(key, _text(value), ex=ttl if ttl and ttl > 0 else None))
    if operation == "del":
        return client.delete(key)
    if operation == "incr":
        amount = value if value not in (None, "") else 1
        try:
            return client.incrby(key, int(amount))
        except (TypeError, ValueError):
            raise NodeError("for incr, input 'value' must be a whole number (the amount)") from None
    if operation == "expire":
        return bool(client.expire(key, int(ttl)))
    if operation == "hget":
        return client.hget(key, inputs["field"])
    if operation == "hset":
        parsed = _parsed(value)
        if inputs.get("field"):
            return client.hset(key, inputs["field"], _text(value))
        return client.hset(key, mapping={str(k): _text(v) for k, v in parsed.items()})
    if operation == "hgetall":
        return client.hgetall(key)
    if operation in ("lpush", "rpush"):
        parsed = _parsed(value)
        items = [_text(item) for item in parsed] if isinstance(parsed, list) else [_text(value)]
        if not items:
            raise NodeError(f"{operation} needs at least one value")
        return getattr(client, operation)(key, *items)
    if operation in ("lpop", "rpop"):
        return getattr(client, operation)(key)
    if operation == "lrange":
        return client.lrange(
            key,
            int(inputs.get("start") or 0),
            int(inputs.get("stop") if inputs.get("stop") is not None else -1),
        )
    return client.publish(key, _text(value))  # publish: the number of subscribers that received it
