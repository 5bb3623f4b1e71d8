"""An agent's tools: the nodes wired to its `tools` handle. Each node's manifest inputs (a sub-flow
invoke: its begin node's inputs) become the tool's JSON schema; calling the tool runs that node as a step
of the execution with the model's arguments as its inputs.

Inputs the author already filled in are fixed and left out of the schema, and so are credential-like ones
(keys, tokens, passwords, connections): the model is never asked for them.
"""

from __future__ import annotations

import json
import re

from flomation.executor.engine.errors import NodeFailure

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.executor.graph import FlowNode

TOOLS_HANDLE = "tools"
MAX_RESULT_CHARS = 20000
_CREDENTIAL = re.compile(r"(api_?key|token|password|secret|credential|private_key|passphrase)", re.I)
_JSON_TYPES = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "key_value_array": {"type": "object"},
    "multi_select": {"type": "array", "items": {"type": "string"}},
    "any": {},
}
_HIDDEN_TYPES = frozenset({"secret", "credential", "connection"})


class Tool:
    def __init__(self, node: FlowNode, name: str, description: str, parameters: dict[str, Any]) -> None:
        self.node = node
        self.name = name
        self.description = description
        self.parameters = parameters
        self.allowed = frozenset(parameters.get("properties") or ())

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


def tools_of(ctx: NodeContext) -> list[Tool]:
    """The agent's tools, in the order their edges were drawn; names made unique and model-safe."""
    execution = ctx._execution
    graph = execution.graph
    tools: list[Tool] = []
    taken: set[str] = set()
    for edge in graph.out_edges[ctx.node_id]:
        if edge.handle != TOOLS_HANDLE:
            continue
        target = graph.nodes[edge.target]
        if target.spec is None:
            continue
        name = _unique(_slug(str(target.config.get("name") or "") or target.label or target.id), taken)
        description = (
            str(target.config.get("description") or "") or target.spec.description or target.spec.name
        )
        tools.append(Tool(target, name, description[:1000], _schema(graph, target)))
    return tools


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:60]
    return slug or "tool"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


def _schema(graph: Any, node: FlowNode) -> dict[str, Any]:
    from flomation.executor.graph import SUBFLOW_INVOKE

    properties: dict[str, Any] = {}
    required: list[str] = []
    if node.action == SUBFLOW_INVOKE:
        begin = _begin_of(graph, node.inputs.get("sub_flow_name"))
        for name in begin.inputs if begin is not None else {}:
            if name == "name" or _CREDENTIAL.search(name) or begin.input_types.get(name) in _HIDDEN_TYPES:
                continue
            properties[name] = dict(
                _JSON_TYPES.get(begin.input_types.get(name) or "string", {"type": "string"})
            )
            required.append(name)
        return {"type": "object", "properties": properties, "required": required}
    for declared in node.spec.inputs:
        configured = node.inputs.get(declared.name)
        if declared.type in _HIDDEN_TYPES or _CREDENTIAL.search(declared.name):
            continue
        if configured not in (None, "") and not (isinstance(configured, str) and "${var.tool" in configured):
            continue
        schema = dict(_JSON_TYPES.get(declared.type, {"type": "string"}))
        values = declared.option_values()
        if values:
            schema["enum"] = list(values)
        if declared.description:
            schema["description"] = declared.description
        properties[declared.name] = schema
        if declared.required and declared.default is None:
            required.append(declared.name)
    return {"type": "object", "properties": properties, "required": required}


def _begin_of(graph: Any, name: Any) -> FlowNode | None:
    from flomation.executor.graph import SUBFLOW_BEGIN

    for candidate in graph.nodes.values():
        if candidate.action == SUBFLOW_BEGIN and candidate.inputs.get("name") == name:
            return candidate
    return None


def call_tool(
    ctx: NodeContext, tool: Tool, call_id: str, arguments: dict[str, Any], *, index: int
) -> tuple[str, bool]:
    """Runs the tool's node with the model's arguments; (what goes back to the model, whether it worked).

    The node runs as a step of this execution (its own event, inputs and outputs, as in the run view); a
    failure is told to the model rather than ending the agent. `${var.tool.input.<name>}` in a configured
    input reads an argument too, as in Flomation."""
    from flomation.executor.engine.noderun import run_node

    execution = ctx._execution
    node = tool.node
    given = {k: v for k, v in arguments.items() if k in tool.allowed}
    saved = {k: execution.variables.get(k) for k in ("tool.name", "tool.id", "tool.input")}
    execution.variables.update({"tool.name": tool.name, "tool.id": call_id, "tool.input": given})
    execution.injected[node.id] = given
    execution.results.pop(node.id, None)
    try:
        run_node(execution, node, "tool", iteration=index)
    except NodeFailure as failure:
        return f"the tool failed: {failure.message}", False
    finally:
        execution.injected.pop(node.id, None)
        for key, value in saved.items():
            if value is None:
                execution.variables.pop(key, None)
            else:
                execution.variables[key] = value
    outputs = execution.results.get(node.id) or {}
    if outputs.get("success") is False:
        return f"the tool failed: {outputs.get('error') or 'it reported success: false'}", False
    return _result_text(outputs), True


def _result_text(outputs: dict[str, Any]) -> str:
    visible = {k: v for k, v in outputs.items() if not k.startswith("__")}
    text = json.dumps(visible, default=str, ensure_ascii=False)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"… [cut, {len(text)} characters in all]"
    return text
