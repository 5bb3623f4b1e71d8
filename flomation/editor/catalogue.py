"""The node catalogue (the executor's manifest) and flow validation, as the canvas needs them.

The executor owns both (`flomation.executor.manifest()` and `validate_flow()`); it imports no Django, so
calling it in-process is cheap. The manifest is built once per process.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)

CLASS_NAMES = {1: "trigger", 2: "action", 3: "output", 4: "conditional", 5: "loop", 6: "switch", 7: "await"}
# Handles of the routing classes when a manifest entry does not list its own.
DEFAULT_HANDLES = {4: ["true-branch", "false-branch"], 5: ["loop", "output"], 6: ["default"]}
# The palette's icon of a category: our own neutral glyphs (no vendor logos, so no brand terms to carry).
CATEGORY_ICONS = {
    "slack": "editor/icons/slack.svg",
    "microsoft teams": "editor/icons/teams.svg",
    "telegram": "editor/icons/telegram.svg",
    "discord": "editor/icons/discord.svg",
    "twilio": "editor/icons/twilio.svg",
}
# A node of another category that belongs to one of those services (its triggers sit under "trigger").
NODE_ICONS = {
    "trigger/slack": "slack",
    "trigger/telegram": "telegram",
    "trigger/teams": "microsoft teams",
}


@functools.cache
def manifest() -> dict[str, Any]:
    """{"version", "nodes": [...], "categories": {category: [action ids]}, "icons": {category: URL},
    "node_icons": {action: URL} (a service's node filed under another category),
    "scripts": {isolation, python_packages}}; empty nodes if unavailable."""
    from django.templatetags.static import static

    try:
        from flomation.executor import manifest as executor_manifest

        data = dict(executor_manifest())
    except Exception:
        log.exception("the executor's node manifest could not be loaded; the palette will be empty")
        return {"version": "", "nodes": [], "categories": {}, "unavailable": True}
    nodes = []
    for entry in data.get("nodes", []):
        node = dict(entry)
        if not node.get("handles"):
            node["handles"] = DEFAULT_HANDLES.get(int(node.get("type") or 2), [])
        nodes.append(node)
    categories: dict[str, list[str]] = {}
    for node in sorted(nodes, key=lambda n: (str(n.get("category", "")), str(n.get("name", "")))):
        categories.setdefault(str(node.get("category") or "other"), []).append(node["action"])
    return {
        "version": data.get("version", ""),
        "nodes": nodes,
        "categories": categories,
        "icons": {
            category: static(path) for category, path in CATEGORY_ICONS.items() if category in categories
        },
        "node_icons": {
            action: static(CATEGORY_ICONS[service])
            for action, service in NODE_ICONS.items()
            if any(node["action"] == action for node in nodes)
        },
        "scripts": data.get("scripts", {}),
    }


def validate(flow: dict[str, Any]) -> list[dict[str, Any]]:
    """Validation errors as [{node_id, field, message}]; one whole-flow error if the validator fails."""
    try:
        from flomation.executor import validate_flow
    except ImportError:
        return []
    try:
        problems = validate_flow(flow)
    except Exception as exc:
        log.exception("the flow validator failed")
        return [{"node_id": None, "field": None, "message": f"The flow could not be checked: {exc}"}]
    return [p.to_dict() if hasattr(p, "to_dict") else dict(p) for p in problems]
