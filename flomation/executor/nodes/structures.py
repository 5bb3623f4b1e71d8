"""Array and object helpers (Flomation's common/* ones keep their inputs and output keys)."""

from __future__ import annotations

import copy

from flomation.executor.coerce import dumps, to_dict, to_list, to_str
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input, node
from flomation.executor.templates import MISSING, split_path, walk

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

_ARRAY = Input("array", "object", required=True, description="An array or its JSON text.")
_MATCH_OPERATORS = ("equals", "contains", "starts_with", "ends_with", "not_equals")


def _array(value: Any) -> list[Any]:
    try:
        return to_list(value)
    except ValueError as exc:
        raise NodeError(f"input 'array' {exc}") from None


def _object(value: Any, name: str = "object") -> dict[str, Any]:
    try:
        return to_dict(value)
    except ValueError as exc:
        raise NodeError(f"input '{name}' {exc}") from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else dumps(value)


@node(
    "common/array_find",
    name="Array Find",
    category="data",
    inline=True,
    description="Find an item by index, or the first / all items whose field matches a value.",
    inputs=(
        _ARRAY,
        Input("mode", "string", required=True, default="index", options=("index", "first", "all")),
        Input("index", "integer"),
        Input("field", "string"),
        Input("operator", "string", default="equals", options=_MATCH_OPERATORS),
        Input("value", "string", default=""),
    ),
    outputs=(
        "tool_result:string",
        "item:object",
        "items:array",
        "count:integer",
        "found:boolean",
        "success:boolean",
        "error:string",
    ),
)
def array_find(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    items = _array(inputs["array"])
    if inputs["mode"] == "index":
        index = inputs.get("index")
        if index is None:
            raise NodeError("input 'index' is required in index mode")
        if not -len(items) <= index < len(items):
            raise NodeError(f"index {index} is out of range (the array has {len(items)} items)")
        item = items[index]
        return {
            "tool_result": _text(item),
            "item": item,
            "items": [item],
            "count": 1,
            "found": True,
            "success": True,
            "error": "",
        }
    field = inputs.get("field")
    if not field:
        raise NodeError("input 'field' is required to match items")
    wanted, operator = inputs["value"], inputs["operator"]
    matched = []
    for item in items:
        if not isinstance(item, dict):
            continue
        actual = _text(item.get(field))
        low, want = actual.lower(), wanted.lower()
        hit = {
            "equals": actual == wanted,
            "not_equals": actual != wanted,
            "contains": want in low,
            "starts_with": low.startswith(want),
            "ends_with": low.endswith(want),
        }[operator]
        if hit:
            matched.append(item)
            if inputs["mode"] == "first":
                break
    first = matched[0] if matched else None
    summary = f"Found {len(matched)} matches" if inputs["mode"] == "all" else _text(first)
    return {
        "tool_result": summary,
        "item": first,
        "items": matched,
        "count": len(matched),
        "found": bool(matched),
        "success": True,
        "error": "",
    }


@node(
    "common/array_index",
    name="Array Index",
    category="data",
    inline=True,
    description="One item of an array by its 0-based index (negative counts from the end).",
    inputs=(_ARRAY, Input("index", "integer", required=True)),
    outputs=("tool_result:string", "item:object", "success:boolean", "error:string"),
)
def array_index(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    items = _array(inputs["array"])
    index = inputs["index"]
    if not -len(items) <= index < len(items):
        raise NodeError(f"index {index} is out of range (the array has {len(items)} items)")
    item = items[index]
    return {"tool_result": _text(item), "item": item, "success": True, "error": ""}


@node(
    "common/array_length",
    name="Array Length",
    category="data",
    inline=True,
    description="The number of items in an array.",
    inputs=(_ARRAY,),
    outputs=("tool_result:string", "length:integer", "success:boolean", "error:string"),
)
def array_length(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    length = len(_array(inputs["array"]))
    return {"tool_result": str(length), "length": length, "success": True, "error": ""}


@node(
    "common/object_get",
    name="Object Get Field",
    category="data",
    inline=True,
    description="A field of an object by name; dots and [n] walk into nested values (address.city).",
    inputs=(Input("object", "object", required=True), Input("field", "string", required=True)),
    outputs=(
        "tool_result:string",
        "value:object",
        "value_string:string",
        "found:boolean",
        "success:boolean",
        "error:string",
    ),
)
def object_get(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    value = walk(_object(inputs["object"]), split_path(inputs["field"]))
    if value is MISSING:
        return {
            "tool_result": f"field '{inputs['field']}' not found",
            "value": None,
            "value_string": "",
            "found": False,
            "success": True,
            "error": "",
        }
    text = _text(value)
    return {
        "tool_result": text,
        "value": value,
        "value_string": text,
        "found": True,
        "success": True,
        "error": "",
    }


@node(
    "common/data_combine",
    name="Data Combine",
    category="data",
    inline=True,
    description="Combine every parent's outputs into one object (later parents win).",
    outputs=("combined:object",),
)
def data_combine(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    combined: dict[str, Any] = {}
    for _, outputs in ctx.parents:
        combined.update(outputs)
    return {"combined": combined}


@node(
    "common/data_extract",
    name="Data Extract",
    category="data",
    inline=True,
    description="Pick named outputs (comma-separated) from the parents.",
    inputs=(Input("keys", "text", required=True),),
    outputs=("extracted:object",),
)
def data_extract(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    available: dict[str, Any] = {}
    for _, outputs in ctx.parents:
        available.update(outputs)
    wanted = [k.strip() for k in inputs["keys"].split(",") if k.strip()]
    missing = [k for k in wanted if k not in available]
    if missing:
        ctx.log("warning", "requested keys not found in parent outputs", keys=",".join(missing))
    return {"extracted": {k: available[k] for k in wanted if k in available}}


@node(
    "common/data_rename",
    name="Data Rename",
    category="data",
    inline=True,
    description="Pass a parent's output on under another name.",
    inputs=(Input("input_key", "string", required=True), Input("output_key", "string", required=True)),
    dynamic_outputs=True,
)
def data_rename(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    source, target = inputs["input_key"].strip(), inputs["output_key"].strip()
    for _, outputs in ctx.parents:
        if source in outputs:
            return {target: outputs[source]}
    ctx.log("warning", "input key not found in parent outputs", key=source)
    return {target: None}


@node(
    "array/sort",
    name="Sort Array",
    category="data",
    inline=True,
    description="Sort an array, optionally by a field of its objects.",
    inputs=(
        Input("array", "array", required=True),
        Input("field", "string"),
        Input("descending", "boolean", default=False),
    ),
    outputs=("result:array",),
)
def array_sort(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    field = inputs.get("field")

    def key(item: Any) -> tuple[int, Any]:
        value = walk(item, split_path(field)) if field else item
        if value is MISSING or value is None:
            return (2, "")
        if isinstance(value, bool | int | float):
            return (0, value)
        return (1, to_str(value))

    return {"result": sorted(inputs["array"], key=key, reverse=inputs["descending"])}


@node(
    "array/unique",
    name="Unique Items",
    category="data",
    inline=True,
    description="Drop repeated items (the first one stays), optionally judged by a field.",
    inputs=(Input("array", "array", required=True), Input("field", "string")),
    outputs=("result:array", "removed:integer"),
)
def array_unique(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    result = []
    for item in inputs["array"]:
        value = walk(item, split_path(inputs["field"])) if inputs.get("field") else item
        marker = dumps(None if value is MISSING else value)
        if marker not in seen:
            seen.add(marker)
            result.append(item)
    return {"result": result, "removed": len(inputs["array"]) - len(result)}


@node(
    "array/slice",
    name="Slice Array",
    category="data",
    inline=True,
    description="Items from start up to end (exclusive); negatives count from the end.",
    inputs=(
        Input("array", "array", required=True),
        Input("start", "integer", default=0),
        Input("end", "integer"),
    ),
    outputs=("result:array", "count:integer"),
)
def array_slice(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    result = inputs["array"][inputs["start"] : inputs.get("end")]
    return {"result": result, "count": len(result)}


@node(
    "object/merge",
    name="Merge Objects",
    category="data",
    inline=True,
    description="Merge two objects; with deep, nested objects are merged too (b wins).",
    inputs=(
        Input("a", "object", required=True),
        Input("b", "object", required=True),
        Input("deep", "boolean", default=False),
    ),
    outputs=("result:object",),
)
def object_merge(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    def merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
        out = dict(left)
        for key, value in right.items():
            if inputs["deep"] and isinstance(out.get(key), dict) and isinstance(value, dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
        return out

    return {"result": merge(_object(inputs["a"], "a"), _object(inputs["b"], "b"))}


@node(
    "object/keys",
    name="Object Keys",
    category="data",
    inline=True,
    description="The keys and values of an object.",
    inputs=(Input("object", "object", required=True),),
    outputs=("keys:array", "values:array", "count:integer"),
)
def object_keys(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    obj = _object(inputs["object"])
    return {"keys": list(obj), "values": list(obj.values()), "count": len(obj)}


@node(
    "object/set",
    name="Set Field",
    category="data",
    description="A copy of an object with a field (dots walk and create nested objects) set to a value.",
    inputs=(
        Input("object", "object", default={}),
        Input("field", "string", required=True),
        Input("value", "any"),
    ),
    outputs=("result:object",),
)
def object_set(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(_object(inputs["object"]))
    path = [str(p) for p in split_path(inputs["field"])]
    if not path:
        raise NodeError("input 'field' is empty")
    current = result
    for part in path[:-1]:
        if not isinstance(current.get(part), dict):
            current[part] = {}
        current = current[part]
    current[path[-1]] = inputs.get("value")
    return {"result": result}
