"""Routing decisions, loops, sub-flows and the On Error chain."""

from __future__ import annotations

from flomation.executor.engine.errors import NodeError, NodeFailure
from flomation.executor.graph import SUBFLOW_BEGIN, SUBFLOW_END
from flomation.executor.registry import AWAIT, CONDITIONAL, SWITCH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.execution import Execution
    from flomation.executor.graph import FlowNode

_LOOP_VARS = ("loop.index", "loop.iteration", "loop.item")
_DEFAULT_MAX_ITERATIONS = 1000


def route_for(ex: Execution, node: FlowNode, outputs: dict[str, Any]) -> frozenset[str] | None:
    """The handles whose edges are followed after ``node`` ran; None means every edge."""
    class_type = node.class_type
    if class_type == CONDITIONAL:
        result = outputs.get("result")
        if not isinstance(result, bool):
            raise NodeError(f"a conditional node must output a boolean 'result', got {result!r}")
        return frozenset({"true-branch" if result else "false-branch"})
    if class_type == SWITCH:
        matched = outputs.get("matched_case")
        handles = {e.handle for e in ex.graph.out_edges[node.id]}
        if isinstance(matched, str) and matched in handles:
            return frozenset({matched})
        return frozenset({"default"})
    if class_type == AWAIT:
        matched = outputs.get("matched_case")
        return frozenset({matched}) if isinstance(matched, str) else frozenset()
    if node.action == SUBFLOW_END:
        return frozenset()
    if node.spec is not None and "tools" in node.spec.handles:
        # An agent's tools run when the model calls them, never as the flow's next step.
        return frozenset(e.handle for e in ex.graph.out_edges[node.id] if e.handle != "tools")
    return None


def run_loop(ex: Execution, node: FlowNode, kind: str) -> None:
    """Run the loop action, then its ``loop`` branch, until the action says stop; then ``output``."""
    from flomation.executor.engine.noderun import run_node

    graph = ex.graph
    body = graph.loop_body(node.id)
    scope = graph.without_loop_bodies(body)
    cap = int(ex.settings.max_loop_iterations)
    saved = {name: ex.variables[name] for name in _LOOP_VARS if name in ex.variables}
    iteration = 0
    try:
        while True:
            if iteration > 0:
                for member in body:
                    ex.results.pop(member, None)
                    ex.routes.pop(member, None)
                ex.results.pop(node.id, None)
                ex.check_stop(node)
            run_node(ex, node, kind, iteration=iteration)
            outputs = ex.results[node.id]
            if outputs.get("result") is not True:
                break
            limit = outputs.get("max_iterations")
            if isinstance(limit, bool) or not isinstance(limit, int):
                limit = _DEFAULT_MAX_ITERATIONS
            if iteration >= limit:
                break
            if iteration >= cap:
                message = f"the loop reached the executor's cap of {cap} iterations"
                ex.record(node, "failed", outputs=outputs, error=message)
                raise NodeFailure(node.id, node.label, node.action, message)
            ex.variables["loop.index"] = iteration
            ex.variables["loop.iteration"] = iteration + 1
            if "item" in outputs:
                ex.variables["loop.item"] = outputs["item"]
            ex.routes[node.id] = frozenset({"loop"})
            ex.walk(scope, seeds=set(), kind="loop")
            iteration += 1
    finally:
        for name in _LOOP_VARS:
            ex.variables.pop(name, None)
        ex.variables.update(saved)
    ex.routes[node.id] = frozenset({"output"})


def _begin_nodes(ex: Execution) -> dict[str, FlowNode]:
    begins = getattr(ex, "_begins", None)
    if begins is None:
        begins = {}
        for candidate in ex.graph.nodes.values():
            if candidate.action == SUBFLOW_BEGIN:
                name = candidate.inputs.get("name")
                if isinstance(name, str):
                    begins.setdefault(name, candidate)
        ex._begins = begins  # type: ignore[attr-defined]
    return begins


def run_subflow(
    ex: Execution, node: FlowNode, outputs: dict[str, Any], flat: dict[str, Any], kind: str
) -> dict[str, Any]:
    """Run the sub-flow an invoke node names; return the invoke node's final outputs."""
    name = outputs.get("__subflow_name")
    begin = _begin_nodes(ex).get(name) if isinstance(name, str) else None
    if begin is None:
        raise NodeError(f"no subflow/begin node is named {name!r}")
    depth = ex.subflow_depth.get(name, 0)
    if depth >= int(ex.settings.max_subflow_depth):
        raise NodeError(f"sub-flow '{name}' is nested more than {ex.settings.max_subflow_depth} deep")
    graph = ex.graph
    members = graph.subflow_members(begin.id)
    saved = {m: (ex.results.pop(m), ex.routes.pop(m, None)) for m in members if m in ex.results}
    injected = dict(flat)
    injected.update(outputs)
    previous_injection = ex.injected.get(begin.id)
    ex.injected[begin.id] = injected
    ex.subflow_depth[name] = depth + 1
    try:
        ex.walk(graph.without_loop_bodies(members), seeds={begin.id}, kind="subflow")
        result = None
        for member in sorted(members, key=lambda m: graph.nodes[m].index):
            if graph.nodes[member].action == SUBFLOW_END and member in ex.results:
                result = ex.results[member]
                break
        if result is None:
            result = ex.results.get(begin.id, {})
    finally:
        ex.subflow_depth[name] = depth
        if previous_injection is None:
            ex.injected.pop(begin.id, None)
        else:
            ex.injected[begin.id] = previous_injection
        if depth > 0:  # a recursive call: give the caller's frame its own results back
            for member in members:
                ex.results.pop(member, None)
                ex.routes.pop(member, None)
            for member, (value, route) in saved.items():
                ex.results[member] = value
                ex.routes[member] = route
    final = dict(outputs)
    final.update(result)
    final["tool_result"] = result.get("return_value", result.get("tool_result", ""))
    final["success"] = True
    final["error"] = ""
    return final


def run_error_chain(ex: Execution, failure: NodeFailure | None) -> None:
    """After a failure, run the first ``error/on_error`` node's chain (the run stays failed)."""
    graph = ex.graph
    handler = graph.on_error_node()
    if handler is None:
        return
    if failure is not None:
        ex.in_error_chain = True
        ex.suspend_info = None
        outputs = {
            "error_message": failure.message,
            "error_node_id": failure.node_id,
            "error_node_label": failure.label,
            "error_node_type": failure.action,
        }
        ex.results[handler.id] = outputs
        ex.routes[handler.id] = None
        ex.record(handler, "running", inputs={})
        ex.record(handler, "success", inputs={}, outputs=outputs)
    members = graph.descendants([handler.id])
    ex.walk(graph.without_loop_bodies(frozenset(members)), seeds=set(), kind="error")
