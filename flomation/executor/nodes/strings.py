"""String operations (Flomation's ids, inputs and output keys, plus string/split)."""

from __future__ import annotations

from flomation.executor.coerce import to_list, to_str
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.context import NodeContext

_OUT = ("tool_result:string", "result:string", "success:boolean", "error:string")
_VALUE = Input("value", "string", required=True, description="Input string")
MAX_REPEAT = 10_000


def _ok(result: Any, **extra: Any) -> dict[str, Any]:
    text = result if isinstance(result, str) else to_str(result)
    return {"tool_result": text, "result": result, "success": True, "error": "", **extra}


def _unary(action: str, name: str, description: str, fn: Callable[[str], str]) -> None:
    def run(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
        return _ok(fn(inputs["value"]))

    run.__name__ = action.replace("/", "_")
    node(
        action,
        name=name,
        category="string",
        description=description,
        inputs=(_VALUE,),
        outputs=_OUT,
        inline=True,
    )(run)


_unary("string/lower_case", "Lower Case", "Convert a string to lower case.", str.lower)
_unary("string/upper_case", "Upper Case", "Convert a string to upper case.", str.upper)
_unary("string/trim", "Trim", "Remove whitespace from both ends of a string.", str.strip)
_unary("string/trim_start", "Trim Start", "Remove whitespace from the start of a string.", str.lstrip)
_unary("string/trim_end", "Trim End", "Remove whitespace from the end of a string.", str.rstrip)


@node(
    "string/concatenate",
    name="Concatenate",
    category="string",
    inline=True,
    description="Join two or more strings together.",
    inputs=(
        Input("a", "string", required=True),
        Input("b", "string"),
        Input("c", "string"),
        Input("d", "string"),
    ),
    outputs=_OUT,
)
def concatenate(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return _ok("".join(inputs.get(k) or "" for k in ("a", "b", "c", "d")))


@node(
    "string/contains",
    name="Contains",
    category="string",
    inline=True,
    description="Check whether a string contains a substring.",
    inputs=(
        _VALUE,
        Input("search", "string", required=True),
        Input("case_sensitive", "boolean", default=True),
    ),
    outputs=("tool_result:string", "result:boolean", "success:boolean", "error:string"),
)
def contains(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    value, search = inputs["value"], inputs["search"]
    if not inputs["case_sensitive"]:
        value, search = value.lower(), search.lower()
    found = search in value
    return {"tool_result": "true" if found else "false", "result": found, "success": True, "error": ""}


@node(
    "string/join",
    name="Join",
    category="string",
    description="Join an array of strings with a separator (default ', ').",
    inputs=(Input("array", "object", required=True), Input("separator", "string", default=", ")),
    outputs=_OUT,
)
def join(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    array = inputs["array"]
    try:
        parts = to_list(array)
    except ValueError:
        parts = [array]
    return _ok(inputs["separator"].join(to_str(p) for p in parts))


@node(
    "string/repeat",
    name="Repeat",
    category="string",
    description="Repeat a string a number of times (0 to 10,000).",
    inputs=(_VALUE, Input("count", "integer", required=True)),
    outputs=_OUT,
)
def repeat(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return _ok(inputs["value"] * max(0, min(MAX_REPEAT, inputs["count"])))


@node(
    "string/replace",
    name="Replace",
    category="string",
    description="Replace every occurrence of a substring.",
    inputs=(_VALUE, Input("search", "string", required=True), Input("replace", "string", default="")),
    outputs=(*_OUT, "count:integer"),
)
def replace(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    value, search = inputs["value"], inputs["search"]
    return _ok(value.replace(search, inputs["replace"]), count=value.count(search))


@node(
    "string/substring",
    name="Substring",
    category="string",
    inline=True,
    description="Characters from start (0-based) up to end (exclusive; empty means the end).",
    inputs=(_VALUE, Input("start", "integer", required=True, default=0), Input("end", "integer")),
    outputs=_OUT,
)
def substring(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    value = inputs["value"]
    end = inputs.get("end")
    end = len(value) if end is None else min(end, len(value))
    start = min(max(0, inputs["start"]), end)
    return _ok(value[start:end] if end >= 0 else "")


@node(
    "string/split",
    name="Split",
    category="string",
    inline=True,
    description="Split a string into an array on a separator (default ',').",
    inputs=(_VALUE, Input("separator", "string", default=","), Input("trim", "boolean", default=True)),
    outputs=("result:array", "count:integer", "success:boolean", "error:string"),
)
def split(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    parts = inputs["value"].split(inputs["separator"]) if inputs["value"] else []
    if inputs["trim"]:
        parts = [p.strip() for p in parts]
    return {"result": parts, "count": len(parts), "success": True, "error": ""}
