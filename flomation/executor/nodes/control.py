"""Routing and structure: if, switch, loops, On Error, sub-flows."""

from __future__ import annotations

from flomation.executor.coerce import to_number, to_str
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import ACTION, CONDITIONAL, LOOP, SWITCH, Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

COMPARISONS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "greater_than",
    "greater_or_equal",
    "less_than",
    "less_or_equal",
    "is_empty",
    "is_not_empty",
)
_COMPARE_INPUTS = (
    Input("value_a", "string", description="The left-hand value (compared as text)."),
    Input("operator", "string", required=True, default="equals", options=COMPARISONS),
    Input("value_b", "string", description="The right-hand value (ignored by is_empty / is_not_empty)."),
)


def compare(a: Any, operator: str, b: Any) -> bool:
    """Flomation's comparisons: on text; greater/less parse numbers and are false if they cannot."""
    left, right = to_str(a), to_str(b)
    if operator == "equals":
        return left == right
    if operator == "not_equals":
        return left != right
    if operator == "contains":
        return right in left
    if operator == "not_contains":
        return right not in left
    if operator == "starts_with":
        return left.startswith(right)
    if operator == "ends_with":
        return left.endswith(right)
    if operator == "is_empty":
        return left.strip() == ""
    if operator == "is_not_empty":
        return left.strip() != ""
    try:
        x, y = to_number(left), to_number(right)
    except ValueError:
        return False
    if operator == "greater_than":
        return x > y
    if operator == "greater_or_equal":
        return x >= y
    if operator == "less_than":
        return x < y
    if operator == "less_or_equal":
        return x <= y
    raise NodeError(f"unknown operator '{operator}'")


@node(
    "conditional/if",
    name="If",
    category="logic",
    inline=True,
    description="Compare two values and follow the true-branch or the false-branch handle.",
    class_type=CONDITIONAL,
    inputs=_COMPARE_INPUTS,
    outputs=("result:boolean",),
    handles=("true-branch", "false-branch"),
)
def if_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"result": compare(inputs.get("value_a"), inputs["operator"], inputs.get("value_b"))}


@node(
    "conditional/switch",
    name="Switch",
    category="logic",
    description="Match a value against cases in order; follow case_N for the first match, else default.",
    class_type=SWITCH,
    inputs=(
        Input("value", "string"),
        Input(
            "operator",
            "string",
            default="equals",
            options=("equals", "contains", "starts_with", "ends_with", "regex"),
        ),
        Input("cases", "key_value_array", required=True, description="label -> condition, tried in order."),
    ),
    outputs=("matched_case:string", "matched:boolean", "value:string", "matched_label:string"),
    handles=("case_N", "default"),
)
def switch_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    value = to_str(inputs.get("value"))
    operator = inputs["operator"]
    for index, (label, condition) in enumerate(inputs["cases"]):
        pattern = to_str(condition)
        if operator == "regex":
            import re

            try:
                hit = re.search(pattern, value) is not None
            except re.error as exc:
                raise NodeError(f"case '{label}' has an invalid regular expression: {exc}") from None
        else:
            left, right = value.lower(), pattern.lower()
            hit = {
                "equals": left == right,
                "contains": right in left,
                "starts_with": left.startswith(right),
                "ends_with": left.endswith(right),
            }[operator]
        if hit:
            return {"matched_case": f"case_{index}", "matched": True, "value": value, "matched_label": label}
    return {"matched_case": "default", "matched": False, "value": value, "matched_label": ""}


@node(
    "conditional/for",
    name="For",
    category="logic",
    description="Run the loop branch count times, then the output branch.",
    class_type=LOOP,
    inputs=(Input("count", "integer", required=True), Input("start", "integer", default=0)),
    outputs=("result:boolean", "iterations:integer", "max_iterations:integer", "current_index:integer"),
    handles=("loop", "output"),
)
def for_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    count = max(0, inputs["count"])
    return {"result": ctx.iteration < count, "max_iterations": count, "current_index": ctx.iteration}


@node(
    "conditional/while",
    name="While",
    category="logic",
    description="Run the loop branch while the comparison holds (inputs re-read every iteration).",
    class_type=LOOP,
    inputs=(*_COMPARE_INPUTS, Input("max_iterations", "integer", default=1000)),
    outputs=("result:boolean", "iterations:integer", "max_iterations:integer"),
    handles=("loop", "output"),
)
def while_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    result = compare(inputs.get("value_a"), inputs["operator"], inputs.get("value_b"))
    return {"result": result, "max_iterations": max(0, inputs["max_iterations"])}


@node(
    "conditional/for_each",
    name="For Each",
    category="logic",
    description="Run the loop branch once per item of an array (${var.loop.item} / ${thisNode.item}).",
    class_type=LOOP,
    inputs=(Input("items", "array", required=True),),
    outputs=(
        "item:object",
        "index:integer",
        "result:boolean",
        "iterations:integer",
        "max_iterations:integer",
        "total:integer",
    ),
    handles=("loop", "output"),
)
def for_each_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    items = inputs["items"]
    index = ctx.iteration
    has_item = index < len(items)
    return {
        "item": items[index] if has_item else None,
        "index": index,
        "result": has_item,
        "max_iterations": len(items),
        "total": len(items),
    }


@node(
    "error/on_error",
    name="On Error",
    category="logic",
    inline=True,
    description="Starts the chain that runs when any node fails; the engine fills in the error.",
    class_type=ACTION,
    outputs=(
        "error_message:string",
        "error_node_id:string",
        "error_node_label:string",
        "error_node_type:string",
    ),
)
def on_error_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return {}


@node(
    "subflow/begin",
    name="Sub-flow Begin",
    category="subflow",
    description="Entry of a named sub-flow; its outputs are the invoke node's inputs and its parents' outputs.",
    inputs=(Input("name", "string", required=True),),
    dynamic_outputs=True,
)
def begin_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return dict(inputs)


@node(
    "subflow/invoke",
    name="Invoke Sub-flow",
    category="subflow",
    description="Run the sub-flow whose Begin node has this name; extra inputs are passed to it.",
    inputs=(Input("sub_flow_name", "string", required=True),),
    outputs=("__subflow_name:string", "tool_result:string", "success:boolean", "error:string"),
    dynamic_outputs=True,
)
def invoke_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    outputs = {k: v for k, v in inputs.items() if k != "sub_flow_name"}
    outputs["__subflow_name"] = inputs["sub_flow_name"]
    return outputs


@node(
    "subflow/end",
    name="Sub-flow End",
    category="subflow",
    description="Ends a sub-flow; its inputs become the invoke node's outputs.",
    inputs=(Input("return_value", "any"),),
    dynamic_outputs=True,
)
def end_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return dict(inputs)
