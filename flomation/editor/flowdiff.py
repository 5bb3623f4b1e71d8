"""What changed between two revisions of a flow, in words an author reads in the history."""

from __future__ import annotations

from typing import Any


def _label(node: dict[str, Any]) -> str:
    data = node.get("data") or {}
    config = data.get("config") or {}
    return str(config.get("name") or data.get("label") or node.get("type") or node.get("id"))


def _nodes(flow: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in (flow or {}).get("nodes", []) if isinstance(n, dict) and "id" in n}


def _edges(flow: dict[str, Any] | None) -> set[tuple[str, str, str]]:
    return {
        (str(e.get("source")), str(e.get("target")), str(e.get("sourceHandle") or ""))
        for e in (flow or {}).get("edges", [])
        if isinstance(e, dict)
    }


def _config(node: dict[str, Any]) -> Any:
    config = dict((node.get("data") or {}).get("config") or {})
    return {"type": node.get("type"), "name": config.get("name"), "inputs": config.get("inputs")}


def summarise(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Lines such as 'Added node Send email', 'Changed settings of If', 'Connected If → Slack (true-branch)'."""
    old, new = _nodes(before), _nodes(after)
    lines = [f"Added {_label(new[i])}" for i in new if i not in old]
    lines += [f"Removed {_label(old[i])}" for i in old if i not in new]
    lines += [f"Changed {_label(new[i])}" for i in new if i in old and _config(new[i]) != _config(old[i])]
    names = {**{i: _label(n) for i, n in old.items()}, **{i: _label(n) for i, n in new.items()}}
    old_edges, new_edges = _edges(before), _edges(after)
    for verb, edges in (("Connected", new_edges - old_edges), ("Disconnected", old_edges - new_edges)):
        for source, target, handle in sorted(edges):
            suffix = f" ({handle})" if handle else ""
            lines.append(f"{verb} {names.get(source, source)} → {names.get(target, target)}{suffix}")
    if not lines:
        moved = any((new[i].get("position") or {}) != (old[i].get("position") or {}) for i in new if i in old)
        lines.append("Moved nodes" if moved else "No change to the flow")
    return lines
