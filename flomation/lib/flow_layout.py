"""Telling a flow's layout (where nodes sit on the canvas) from its content; Django-free.

A save that only moves nodes or the viewport changes nothing a run does, so it makes no new revision.
"""

from __future__ import annotations

from typing import Any

# Per-node keys React Flow and the editor write for drawing only; the executor ignores them.
NODE_LAYOUT_KEYS = frozenset(
    {"position", "positionAbsolute", "measured", "width", "height", "selected", "dragging"}
)
# Flow-level keys that only describe the view.
FLOW_LAYOUT_KEYS = frozenset({"viewport"})


def flow_content(flow: Any) -> Any:
    """The flow without its layout: what two flows must share to differ only in layout."""
    if not isinstance(flow, dict):
        return flow
    content = {key: value for key, value in flow.items() if key not in FLOW_LAYOUT_KEYS}
    nodes = content.get("nodes")
    if isinstance(nodes, list):
        content["nodes"] = [
            {key: value for key, value in node.items() if key not in NODE_LAYOUT_KEYS}
            if isinstance(node, dict)
            else node
            for node in nodes
        ]
    return content


def layout_only_change(before: Any, after: Any) -> bool:
    """True when `after` differs from `before` in layout only (or not at all)."""
    return before is not None and flow_content(before) == flow_content(after)
