"""A flow file parsed into a graph with O(1) look-ups: nodes by id, edges by source and target."""

from __future__ import annotations

from collections import deque

from flomation.executor.registry import ACTION, AWAIT, CONDITIONAL, LOOP, SWITCH, TRIGGER
from flomation.executor.templates import references

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.registry import NodeSpec

SUBFLOW_BEGIN = "subflow/begin"
SUBFLOW_INVOKE = "subflow/invoke"
SUBFLOW_END = "subflow/end"
ON_ERROR = "error/on_error"


class FlowNode:
    __slots__ = (
        "id",
        "action",
        "label",
        "class_type",
        "config",
        "inputs",
        "input_types",
        "index",
        "spec",
        "retry",
        "timeout",
        "refs",
        "fail_on_unsuccessful",
    )

    def __init__(self, node_id: str, action: str, label: str, index: int, config: dict[str, Any]) -> None:
        self.id = node_id
        self.action = action
        self.label = label
        self.index = index
        self.config = config
        self.spec: NodeSpec | None = None
        self.class_type = ACTION
        self.inputs: dict[str, Any] = {}
        self.input_types: dict[str, str] = {}
        self.retry: dict[str, Any] | None = None
        self.timeout: float | None = None
        self.refs: frozenset[str] = frozenset()
        self.fail_on_unsuccessful = False

    @property
    def is_trigger(self) -> bool:
        return self.class_type == TRIGGER or self.action.startswith("trigger/")


class Edge:
    __slots__ = ("id", "source", "target", "handle")

    def __init__(self, edge_id: str, source: str, target: str, handle: str | None) -> None:
        self.id = edge_id
        self.source = source
        self.target = target
        self.handle = handle


class Graph:
    """Parsed flow. ``problems`` lists structural errors as (node_id, field, message)."""

    def __init__(self, flow: Any, lookup: Any) -> None:
        self.nodes: dict[str, FlowNode] = {}
        self.edges: list[Edge] = []
        self.out_edges: dict[str, list[Edge]] = {}
        self.in_edges: dict[str, list[Edge]] = {}
        self.problems: list[tuple[str | None, str | None, str]] = []
        self._bodies: dict[str, frozenset[str]] = {}
        self._scopes: dict[str, frozenset[str]] = {}
        self._parse(flow, lookup)

    # -- parsing -------------------------------------------------------------------------------
    def _parse(self, flow: Any, lookup: Any) -> None:
        if not isinstance(flow, dict):
            self.problems.append((None, None, "the flow must be a JSON object with 'nodes' and 'edges'"))
            return
        raw_nodes = flow.get("nodes")
        raw_edges = flow.get("edges")
        if not isinstance(raw_nodes, list):
            self.problems.append((None, "nodes", "the flow needs a 'nodes' array"))
            raw_nodes = []
        if raw_edges is None or not isinstance(raw_edges, list):
            self.problems.append((None, "edges", "the flow needs an 'edges' array"))
            raw_edges = []
        for index, raw in enumerate(raw_nodes):
            self._parse_node(index, raw, lookup)
        for index, raw in enumerate(raw_edges):
            self._parse_edge(index, raw)
        for node in self.nodes.values():
            node.refs = frozenset(
                ref.head
                for value in node.inputs.values()
                for ref in references(value)
                if ref.ns == "ref" and ref.head in self.nodes and ref.head != node.id
            )

    def _parse_node(self, index: int, raw: Any, lookup: Any) -> None:
        if not isinstance(raw, dict):
            self.problems.append((None, f"nodes[{index}]", "a node must be a JSON object"))
            return
        node_id = raw.get("id")
        if not isinstance(node_id, str) or not node_id:
            self.problems.append((None, f"nodes[{index}].id", "a node needs a non-empty string id"))
            return
        if node_id in self.nodes:
            self.problems.append((node_id, "id", f"node id '{node_id}' is used more than once"))
            return
        data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
        config = data.get("config") if isinstance(data.get("config"), dict) else {}
        label = data.get("label") if isinstance(data.get("label"), str) else ""
        action = raw.get("type") if isinstance(raw.get("type"), str) else ""
        spec = lookup(action) if action else None
        if spec is None and label:
            spec_by_label = lookup(label)
            if spec_by_label is not None:
                spec, action = spec_by_label, label
        node = FlowNode(node_id, action or label, label or action, index, config)
        node.spec = spec
        self.nodes[node_id] = node
        self.out_edges[node_id] = []
        self.in_edges[node_id] = []
        if spec is None:
            shown = node.action or "(none)"
            self.problems.append((node_id, "type", f"unknown node type '{shown}'"))
        class_type = config.get("type")
        if isinstance(class_type, bool) or not isinstance(class_type, int | None):
            if isinstance(class_type, str) and class_type.isdigit():
                class_type = int(class_type)
            else:
                self.problems.append((node_id, "data.config.type", "the node class must be a number (1-7)"))
                class_type = None
        if class_type is None or class_type not in range(1, 8):
            class_type = spec.class_type if spec is not None else ACTION
        node.class_type = class_type
        raw_inputs = config.get("inputs")
        if raw_inputs is None:
            raw_inputs = []
        if not isinstance(raw_inputs, list):
            self.problems.append((node_id, "data.config.inputs", "inputs must be an array"))
            raw_inputs = []
        for position, item in enumerate(raw_inputs):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                self.problems.append((node_id, f"inputs[{position}]", "an input needs a name"))
                continue
            node.inputs[item["name"]] = item.get("value")
            if isinstance(item.get("type"), str):
                node.input_types[item["name"]] = item["type"]
        self._parse_settings(node, config)

    def _parse_settings(self, node: FlowNode, config: dict[str, Any]) -> None:
        retry = config.get("retry")
        if retry is not None:
            if not isinstance(retry, dict):
                self.problems.append((node.id, "data.config.retry", "retry must be an object"))
            else:
                attempts = retry.get("attempts", 1)
                backoff = retry.get("backoff_seconds", 0)
                if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
                    self.problems.append(
                        (
                            node.id,
                            "data.config.retry.attempts",
                            "attempts must be a whole number of at least 1",
                        )
                    )
                elif isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
                    self.problems.append(
                        (node.id, "data.config.retry.backoff_seconds", "backoff_seconds must be 0 or more")
                    )
                else:
                    node.retry = retry
        timeout = config.get("timeout_seconds")
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                self.problems.append(
                    (node.id, "data.config.timeout_seconds", "timeout_seconds must be a positive number")
                )
            else:
                node.timeout = float(timeout)
        node.fail_on_unsuccessful = config.get("fail_on_unsuccessful") is True

    def _parse_edge(self, index: int, raw: Any) -> None:
        if not isinstance(raw, dict):
            self.problems.append((None, f"edges[{index}]", "an edge must be a JSON object"))
            return
        edge_id = raw.get("id") if isinstance(raw.get("id"), str) else f"edges[{index}]"
        source, target = raw.get("source"), raw.get("target")
        ok = True
        for field, value in (("source", source), ("target", target)):
            if not isinstance(value, str) or value not in self.nodes:
                shown = value if isinstance(value, str) else repr(value)
                owner = source if isinstance(source, str) and source in self.nodes else None
                self.problems.append(
                    (
                        owner,
                        f"edges[{edge_id}].{field}",
                        f"edge '{edge_id}' points to a missing node '{shown}'",
                    )
                )
                ok = False
        if not ok:
            return
        handle = raw.get("sourceHandle")
        edge = Edge(edge_id, source, target, handle if isinstance(handle, str) and handle else None)
        self.edges.append(edge)
        self.out_edges[source].append(edge)
        self.in_edges[target].append(edge)

    # -- structure ----------------------------------------------------------------------------
    def triggers(self) -> list[FlowNode]:
        return [n for n in self.nodes.values() if n.action.startswith("trigger/")]

    def start_node(self, entry: str | None) -> FlowNode | None:
        if entry and entry in self.nodes:
            return self.nodes[entry]
        triggers = self.triggers()
        return triggers[0] if triggers else None

    def loop_body(self, loop_id: str) -> frozenset[str]:
        """Nodes reached through the loop's ``loop`` handle without passing through the loop."""
        body = self._bodies.get(loop_id)
        if body is None:
            starts = [e.target for e in self.out_edges[loop_id] if e.handle == "loop"]
            body = frozenset(self.descendants(starts, stop={loop_id}, include_starts=True))
            self._bodies[loop_id] = body
        return body

    def subflow_members(self, begin_id: str) -> frozenset[str]:
        key = "subflow:" + begin_id
        members = self._scopes.get(key)
        if members is None:
            members = frozenset(self.descendants([begin_id], stop_after_end=True, include_starts=True))
            self._scopes[key] = members
        return members

    def descendants(
        self,
        starts: list[str],
        *,
        stop: set[str] | None = None,
        include_starts: bool = False,
        stop_after_end: bool = False,
    ) -> set[str]:
        seen: set[str] = set()
        queue = deque()
        for s in starts:
            if stop and s in stop:
                continue
            if include_starts:
                seen.add(s)
                queue.append(s)
            else:
                queue.append(s)
        while queue:
            current = queue.popleft()
            if stop_after_end and self.nodes[current].action == SUBFLOW_END:
                continue
            for edge in self.out_edges[current]:
                target = edge.target
                if target in seen or (stop and target in stop):
                    continue
                seen.add(target)
                queue.append(target)
        return seen

    def without_loop_bodies(self, members: frozenset[str] | set[str]) -> frozenset[str]:
        """``members`` minus the bodies of the loops among them (each loop walks its own body)."""
        excluded: set[str] = set()
        for node_id in members:
            if self.nodes[node_id].class_type == LOOP:
                excluded |= self.loop_body(node_id) - {node_id}
        return frozenset(members) - excluded

    def reachable(self, start: str) -> frozenset[str]:
        """Forward from the start, plus "rootless" ancestors (constant sub-graphs no trigger reaches)."""
        blocked = self._side_graphs()
        forward = self._forward({start}, blocked)
        from_any_trigger = self._forward({t.id for t in self.triggers()} | {start}, blocked)
        result = set(forward)
        queue = deque(forward)
        while queue:
            current = queue.popleft()
            for edge in self.in_edges[current]:
                source = edge.source
                if source in result or source in from_any_trigger or source in blocked:
                    continue
                result.add(source)
                queue.append(source)
        return frozenset(result)

    def _forward(self, starts: set[str], blocked: set[str]) -> set[str]:
        seen = set(starts)
        queue = deque(starts)
        while queue:
            current = queue.popleft()
            for edge in self.out_edges[current]:
                target = edge.target
                if target in seen or target in blocked or self.nodes[target].is_trigger:
                    continue
                seen.add(target)
                queue.append(target)
        return seen

    def _side_graphs(self) -> set[str]:
        """Sub-flow bodies and the On Error chain: never walked as part of the main pass."""
        key = "side"
        cached = self._scopes.get(key)
        if cached is None:
            side: set[str] = set()
            for node in self.nodes.values():
                if node.action == SUBFLOW_BEGIN:
                    side |= self.subflow_members(node.id)
                elif node.action == ON_ERROR:
                    side |= self.descendants([node.id], include_starts=True)
            cached = frozenset(side)
            self._scopes[key] = cached
        return set(cached)

    def on_error_node(self) -> FlowNode | None:
        for node in self.nodes.values():
            if node.action == ON_ERROR or node.label == ON_ERROR:
                return node
        return None

    def back_edge(self, edge: Edge) -> bool:
        """An edge from a loop's body back into that loop node: it closes the loop, not a cycle."""
        target = self.nodes[edge.target]
        return target.class_type == LOOP and edge.source in self.loop_body(target.id)

    def find_cycle(self) -> list[str] | None:
        """One cycle not closed by a loop, as a list of node ids, or None."""
        indegree = dict.fromkeys(self.nodes, 0)
        forward: dict[str, list[str]] = {n: [] for n in self.nodes}
        for edge in self.edges:
            if self.back_edge(edge):
                continue
            indegree[edge.target] += 1
            forward[edge.source].append(edge.target)
        queue = deque(n for n, d in indegree.items() if d == 0)
        while queue:
            current = queue.popleft()
            for target in forward[current]:
                indegree[target] -= 1
                if indegree[target] == 0:
                    queue.append(target)
        remaining = {n for n, d in indegree.items() if d > 0}
        if not remaining:
            return None
        start = next(n for n in self.nodes if n in remaining)
        path = [start]
        seen = {start: 0}
        current = start
        while True:
            current = next(t for t in forward[current] if t in remaining)
            if current in seen:
                return path[seen[current] :] + [current]
            seen[current] = len(path)
            path.append(current)


def is_routing(class_type: int) -> bool:
    return class_type in (CONDITIONAL, LOOP, SWITCH, AWAIT)
