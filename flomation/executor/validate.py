"""Flow validation: the checks the API runs on every save and the engine runs before every run."""

from __future__ import annotations

from flomation.executor.coerce import coerce, is_blank
from flomation.executor.graph import SUBFLOW_BEGIN, SUBFLOW_INVOKE, Graph
from flomation.executor.registry import AWAIT, CONDITIONAL, LOOP, SWITCH, TRIGGER, lookup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.flow_error import FlowError
    from flomation.executor.graph import FlowNode

Problem = tuple  # (node_id | None, field | None, message)

_HANDLES = {
    CONDITIONAL: ("true-branch", "false-branch"),
    LOOP: ("loop", "output"),
}


def validate_flow(flow: Any) -> list[FlowError]:
    """Every problem found in ``flow``; an empty list means it is valid and can run."""
    return to_flow_errors(check_graph(Graph(flow, lookup)))


def to_flow_errors(problems: list[Problem]) -> list[FlowError]:
    if not problems:
        return []
    from flomation.executor.flow_error import FlowError

    return [FlowError(node_id, field, message) for node_id, field, message in problems]


def check_graph(graph: Graph) -> list[Problem]:
    problems: list[Problem] = list(graph.problems)
    if not graph.nodes and not problems:
        problems.append((None, "nodes", "the flow has no nodes"))
    if graph.nodes and not graph.triggers():
        problems.append(
            (None, None, "no start node: the flow needs a trigger node (for example trigger/manual)")
        )
    begin_names = _begin_names(graph)
    for node in graph.nodes.values():
        if node.spec is None:
            continue
        problems.extend(_check_inputs(graph, node))
        problems.extend(_check_handles(graph, node))
        if node.action == SUBFLOW_INVOKE:
            name = node.inputs.get("sub_flow_name")
            if isinstance(name, str) and name and "${" not in name and name not in begin_names:
                problems.append((node.id, "sub_flow_name", f"no subflow/begin node is named '{name}'"))
    if not graph.problems:
        cycle = graph.find_cycle()
        if cycle:
            path = " -> ".join(cycle)
            problems.append((cycle[0], None, f"the flow has a cycle ({path}); only loop nodes may repeat"))
    return problems


def _begin_names(graph: Graph) -> set[str]:
    names = set()
    for node in graph.nodes.values():
        if node.action == SUBFLOW_BEGIN:
            name = node.inputs.get("name")
            if isinstance(name, str):
                names.add(name)
    return names


def _check_inputs(graph: Graph, node: FlowNode) -> list[Problem]:
    problems: list[Problem] = []
    spec = node.spec
    assert spec is not None
    injected = (
        node.class_type == TRIGGER
        or node.action.startswith("trigger/")
        or node.action == SUBFLOW_BEGIN
        # An agent's tool: the model gives the inputs the author left blank.
        or any(edge.handle == "tools" for edge in graph.in_edges[node.id])
    )
    for declared in spec.inputs:
        value = node.inputs.get(declared.name)
        templated = isinstance(value, str) and "${" in value
        if is_blank(value):
            if (
                declared.required
                and declared.default is None
                and not injected
                and not _parents_may_supply(graph, node, declared.name)
            ):
                problems.append((node.id, declared.name, f"input '{declared.name}' is required"))
            continue
        if templated or _contains_template(value):
            continue
        try:
            converted = coerce(declared.type, value)
        except ValueError as exc:
            problems.append((node.id, declared.name, f"input '{declared.name}' {exc}"))
            continue
        allowed = declared.option_values()
        if allowed is not None and converted is not None:
            items = (
                converted
                if declared.type == "multi_select"
                else [value if isinstance(value, dict) else converted]
            )
            bad = [item for item in items if not declared.allows(item)]
            if bad:
                choices = ", ".join(str(a) for a in allowed)
                problems.append(
                    (
                        node.id,
                        declared.name,
                        f"input '{declared.name}' must be one of: {choices} (got {bad[0]!r})",
                    )
                )
    return problems


def _contains_template(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, list):
        return any(_contains_template(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_template(v) for v in value.values())
    return False


def _parents_may_supply(graph: Graph, node: FlowNode, name: str) -> bool:
    """Auto-wiring fills a blank input from a parent's output of the same name; can one supply it?"""
    for edge in graph.in_edges[node.id]:
        parent = graph.nodes[edge.source]
        spec = parent.spec
        if spec is None or spec.dynamic_outputs or parent.class_type in (CONDITIONAL, LOOP, SWITCH, AWAIT):
            return True
        if parent.is_trigger or name in spec.output_names():
            return True
    return False


def _check_handles(graph: Graph, node: FlowNode) -> list[Problem]:
    problems: list[Problem] = []
    for edge in graph.out_edges[node.id]:
        handle = edge.handle
        ok = True
        if node.class_type in _HANDLES:
            ok = handle in _HANDLES[node.class_type]
        elif node.class_type == SWITCH:
            ok = handle == "default" or (handle or "").startswith("case_")
        elif node.class_type == AWAIT:
            ok = handle in ("timeout", "delivery") or (handle or "").startswith("option_")
        if not ok:
            shown = handle if handle is not None else "(none)"
            problems.append(
                (
                    node.id,
                    f"edges[{edge.id}].sourceHandle",
                    f"edge '{edge.id}' leaves through an unknown handle '{shown}'",
                )
            )
    return problems
