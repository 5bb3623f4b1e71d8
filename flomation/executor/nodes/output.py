"""Output nodes: set the flow outputs written to state.json."""

from __future__ import annotations

from flomation.executor.coerce import to_pairs
from flomation.executor.registry import OUTPUT, Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

WEB_RESPONSE_KEY = "__web_response__"


@node(
    "output/set",
    name="Set Output",
    category="output",
    inline=True,
    description="Set one flow output.",
    class_type=OUTPUT,
    inputs=(Input("name", "string", required=True), Input("value", "any")),
    outputs=("name:string", "value:object"),
)
def set_output(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    ctx.set_output(inputs["name"], inputs.get("value"))
    return {"name": inputs["name"], "value": inputs.get("value")}


@node(
    "output/set_outputs",
    name="Set Outputs",
    category="output",
    inline=True,
    description="Copy every output of the parent nodes into the flow outputs.",
    class_type=OUTPUT,
    outputs=("count:integer",),
)
def set_outputs(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    count = 0
    for _, outputs in ctx.parents:
        for key, value in outputs.items():
            ctx.set_output(key, value)
            count += 1
    return {"count": count}


@node(
    "output/web_response",
    name="Web Response",
    category="output",
    inline=True,
    description="The reply a trigger/web caller receives.",
    class_type=OUTPUT,
    inputs=(
        Input("body", "any"),
        Input("status_code", "integer", default=200),
        Input("content_type", "string", default="application/json"),
        Input("headers", "any", description="Key: Value lines, or key/value pairs"),
        Input("history", "any"),
    ),
    outputs=("status_code:integer",),
)
def web_response(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    status = inputs["status_code"]
    if not 100 <= status <= 599:
        from flomation.executor.engine.errors import NodeError

        raise NodeError(f"input 'status_code' must be an HTTP status (100-599), got {status}")
    headers: dict[str, Any] = {}
    raw = inputs.get("headers")
    if isinstance(raw, str) and raw.strip() and not raw.strip().startswith(("[", "{")):
        for line in raw.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                headers[key.strip()] = value.strip()
    elif raw not in (None, ""):
        headers = {k: v for k, v in to_pairs(raw)}
    response = {
        "body": inputs.get("body"),
        "status_code": status,
        "content_type": inputs["content_type"],
        "headers": headers,
    }
    if inputs.get("history") is not None:
        response["history"] = inputs["history"]
    ctx.set_output(WEB_RESPONSE_KEY, response)
    return {"status_code": status}
