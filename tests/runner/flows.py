"""Flows for the runner tests and benchmark (no Django, so executor processes can use them too)."""

from __future__ import annotations

import itertools
from typing import Any


def node(node_id: str, action: str, kind: int, inputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    config = {"id": node_id, "type": kind, "inputs": inputs or [], "outputs": []}
    return {"id": node_id, "type": action, "data": {"id": node_id, "label": action, "config": config}}


def chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    edges = [
        {"id": f"e{i}", "source": a["id"], "target": b["id"]}
        for i, (a, b) in enumerate(itertools.pairwise(nodes))
    ]
    return {"nodes": list(nodes), "edges": edges}


def three_node_flow() -> dict[str, Any]:
    """trigger -> upper-case the trigger's `name` -> set output `greeting`."""
    return chain(
        node("t1", "trigger/manual", 1),
        node("u1", "string/upper_case", 2, [{"name": "value", "type": "string", "value": "${t1.name}"}]),
        node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "greeting"},
                {"name": "value", "type": "string", "value": "hi ${u1.result}"},
            ],
        ),
    )


def sleep_flow() -> dict[str, Any]:
    """trigger -> sleep `${t1.seconds}` -> set output `slept`."""
    return chain(
        node("t1", "trigger/manual", 1),
        node("s1", "common/sleep", 2, [{"name": "duration", "type": "number", "value": "${t1.seconds}"}]),
        node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "slept"},
                {"name": "value", "type": "string", "value": "yes"},
            ],
        ),
    )
