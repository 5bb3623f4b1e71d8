"""What the integration nodes share: turning client values into JSON, parameters, limits, failures."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import uuid
from typing import Any, NoReturn

from flomation.executor.coerce import parse_json_text
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.engine.context import NodeContext

MAX_TIMEOUT_SECONDS = 300.0


def json_safe(value: Any) -> Any:
    """`value` as JSON data: decimals as numbers, times as ISO 8601, bytes as base64, ids as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def parameters(value: Any, name: str = "parameters") -> list[Any] | dict[str, Any] | None:
    """Query parameters: an array (positional) or an object (named); a JSON string is parsed."""
    value = parse_json_text(value)
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, list | dict):
        return value
    raise NodeError(
        f"input '{name}' must be an array (for %s placeholders) or an object (for %(name)s placeholders)"
    )


def statements(inputs: dict[str, Any]) -> list[tuple[str, Any]]:
    """(query, parameters) pairs: `statements` when given, else `query` with `parameters`."""
    many = parse_json_text(inputs.get("statements"))
    if many not in (None, "", []):
        if not isinstance(many, list):
            raise NodeError(
                "input 'statements' must be an array of SQL strings or {query, parameters} objects"
            )
        found = []
        for index, item in enumerate(many):
            if isinstance(item, str):
                item = {"query": item}
            if not isinstance(item, dict) or not str(item.get("query") or "").strip():
                raise NodeError(f"input 'statements' item {index} has no query")
            found.append(
                (str(item["query"]), parameters(item.get("parameters"), f"statements[{index}].parameters"))
            )
        return found
    query = str(inputs.get("query") or "").strip()
    if not query:
        raise NodeError("input 'query' is required (or give 'statements')")
    return [(query, parameters(inputs.get("parameters")))]


def timeout_of(ctx: NodeContext, inputs: dict[str, Any], name: str = "timeout_seconds") -> float:
    """The node's time limit: its input (30 s when blank or not positive), at most 300 s and what the
    node's and the flow's deadlines leave."""
    given = inputs.get(name)
    seconds = float(given) if isinstance(given, int | float) and given > 0 else 30.0
    left = ctx.remaining(min(seconds, MAX_TIMEOUT_SECONDS))
    return max(1.0, left if left is not None else seconds)


def row_cap(inputs: dict[str, Any], default: int = 1000, ceiling: int = 100_000) -> int:
    given = inputs.get("max_rows")
    return max(1, min(ceiling, int(given))) if isinstance(given, int | float) and given > 0 else default


def refused(ctx: NodeContext, error: Exception) -> NoReturn:
    """Logs an egress refusal once and fails the node with its reason."""
    ctx.egress_refused(error)  # type: ignore[arg-type]
    raise NodeError(str(error)) from None


def dumps(value: Any) -> str:
    return json.dumps(json_safe(value), ensure_ascii=False)


def server_inputs(default_port: int, *, database: str = "Database name.") -> tuple[Input, ...]:
    """Flomation's inline connection inputs, shared by the database nodes."""
    return (
        Input("host", "string", description="Server name or address (when no connection is picked)."),
        Input("port", "integer", default=default_port, description="Server port."),
        Input("username", "string", description="User to log in as."),
        Input("password", "secret", description="The user's password (use ${secrets.NAME})."),
        Input("database", "string", description=database),
    )
