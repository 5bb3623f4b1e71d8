"""The static shape of a scope: dependency counts and dependents, computed once per run."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.graph import Graph


class Plan:
    """The static shape of a scope, computed once and reused by every walk over it."""

    __slots__ = ("deps", "dependents", "order")

    def __init__(self, graph: Graph, scope: frozenset[str]) -> None:
        self.deps: dict[str, int] = {}
        self.dependents: dict[str, list[str]] = {n: [] for n in scope}
        self.order = sorted(scope, key=lambda n: graph.nodes[n].index)
        for node_id in self.order:
            sources = {e.source for e in graph.in_edges[node_id] if e.source in scope}
            for ref in graph.nodes[node_id].refs:
                if ref in scope and ref not in sources and not _reaches(graph, node_id, ref, scope):
                    sources.add(ref)
            self.deps[node_id] = len(sources)
            for source in sources:
                self.dependents[source].append(node_id)


def _reaches(graph: Graph, start: str, goal: str, scope: frozenset[str]) -> bool:
    seen = {start}
    stack = [start]
    while stack:
        for edge in graph.out_edges[stack.pop()]:
            if edge.target == goal:
                return True
            if edge.target in scope and edge.target not in seen:
                seen.add(edge.target)
                stack.append(edge.target)
    return False
