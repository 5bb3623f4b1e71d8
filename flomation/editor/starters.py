"""Starting points offered by "New workflow": a blank canvas or a small working flow."""

from __future__ import annotations

from typing import Any


def _node(node_id: str, action: str, class_type: int, x: int, y: int, **inputs: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": action,
        "position": {"x": x, "y": y},
        "data": {
            "id": node_id,
            "label": action,
            "config": {
                "id": node_id,
                "name": None,
                "type": class_type,
                "plugin": action,
                "inputs": [{"name": k, "type": "string", "value": v} for k, v in inputs.items()],
                "outputs": [],
            },
        },
    }


def _edge(source: str, target: str, handle: str | None = None) -> dict[str, Any]:
    edge: dict[str, Any] = {"id": f"e-{source}-{target}", "source": source, "target": target}
    if handle:
        edge["sourceHandle"] = handle
    return edge


STARTERS: dict[str, dict[str, Any]] = {
    "blank": {"name": "Blank canvas", "description": "Nothing yet.", "flow": {"nodes": [], "edges": []}},
    "hello": {
        "name": "Hello, world",
        "description": "A manual trigger that sets one output.",
        "flow": {
            "nodes": [
                _node("trigger", "trigger/manual", 1, 80, 120),
                _node("greeting", "output/set", 3, 420, 120, name="greeting", value="Hello at ${start}"),
            ],
            "edges": [_edge("trigger", "greeting")],
        },
    },
    "webhook-branch": {
        "name": "Webhook with a branch",
        "description": "A webhook whose body decides which output is set.",
        "flow": {
            "nodes": [
                _node("hook", "trigger/webhook", 1, 60, 140),
                _node(
                    "check",
                    "conditional/if",
                    4,
                    360,
                    140,
                    value_a="${body}",
                    operator="contains",
                    value_b="urgent",
                ),
                _node("urgent", "output/set", 3, 680, 60, name="priority", value="high"),
                _node("normal", "output/set", 3, 680, 240, name="priority", value="normal"),
            ],
            "edges": [
                _edge("hook", "check"),
                _edge("check", "urgent", "true-branch"),
                _edge("check", "normal", "false-branch"),
            ],
        },
    },
}
