"""docs/nodes.md, written from the manifest so the reference never drifts from the nodes' declarations.

    python -m flomation.executor.nodes_doc > docs/nodes.md

A test compares the committed page with this output. How particular nodes behave beyond their declaration
is in docs/integrations.md and docs/executor.md.
"""

from __future__ import annotations

import json
from typing import Any

from flomation.executor.registry import manifest

HEADER = """# Node reference

Every node the executor runs, by category: its id (the `type` a flow's node carries), what it does, its
inputs (type, whether required, default) and outputs, and an example of the node as it appears in a flow's
JSON. This page is generated from the nodes' declarations (`python -m flomation.executor.nodes_doc`); a test
keeps it in step. Inputs accept templates such as `${trigger.body.id}` or `${secrets.NAME}`; an input of
type `connection` picks one of the organisation's stored connections of the named type (docs/connections.md).
How the integration nodes behave beyond their inputs: docs/integrations.md; the AI nodes: docs/ai.md.
"""


def _cell(text: Any) -> str:
    value = "" if text is None else str(text)
    return value.replace("|", "\\|").replace("\n", " ")


def _default(value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"`{json.dumps(value)}`"


def _input_type(item: dict[str, Any]) -> str:
    kind = item["type"]
    if item.get("connection"):
        kind = f"connection ({item['connection']})"
    options = item.get("options")
    if options:
        values = ", ".join(str(o.get("value")) for o in options[:12])
        kind += f": {values}{', ...' if len(options) > 12 else ''}"
    return kind


def _example(entry: dict[str, Any]) -> str:
    inputs = []
    for item in entry["inputs"]:
        if not item["required"]:
            continue
        value = item["default"]
        if value is None:
            value = "" if item["type"] not in ("integer", "number", "boolean") else 0
        inputs.append({"name": item["name"], "type": item["type"], "value": value})
    node_id = entry["action"].replace("/", "_")
    config = {"id": node_id, "type": entry["type"], "inputs": inputs, "outputs": []}
    node = {
        "id": node_id,
        "type": entry["action"],
        "data": {"id": node_id, "label": entry["name"], "config": config},
    }
    return json.dumps(node, indent=2)


def _node(entry: dict[str, Any]) -> list[str]:
    lines = [f"### {entry['name']} (`{entry['action']}`)", ""]
    if entry["description"]:
        lines += [entry["description"], ""]
    if entry["inputs"]:
        lines += ["| Input | Type | Required | Default | Description |", "|---|---|---|---|---|"]
        for item in entry["inputs"]:
            required = "yes" if item["required"] else ""
            lines.append(
                f"| `{item['name']}` | {_cell(_input_type(item))} | {required} | {_cell(_default(item['default']))} "
                f"| {_cell(item['description'])} |"
            )
        lines.append("")
    outputs = entry["outputs"]
    if outputs:
        lines.append("Outputs: " + ", ".join(f"`{o['name']}` ({o['type']})" for o in outputs) + ".")
        lines.append("")
    if entry["dynamic_outputs"]:
        lines += ["Its outputs are named by the flow (dynamic).", ""]
    if entry.get("inline"):
        lines += [
            "Inline: it only computes on its inputs, so a flow made only of inline nodes runs in the web process "
            "that received its trigger (see Inline runs in docs/operations.md).",
            "",
        ]
    if not entry.get("idempotent", True):
        lines += [
            "Not idempotent: its effect would happen again if it ran again. It gets an idempotency key per "
            "execution and node, the same on every retry (see Reliability in docs/operations.md).",
            "",
        ]
    lines += ["```json", _example(entry), "```", ""]
    return lines


def render() -> str:
    from flomation.executor.nodes import BUILTIN_INDEX

    # The built-in nodes only: a plugin (or a test) may have registered more in this process.
    nodes = [entry for entry in manifest()["nodes"] if entry["action"] in BUILTIN_INDEX]
    categories: dict[str, list[dict[str, Any]]] = {}
    for entry in nodes:
        categories.setdefault(entry["category"] or "other", []).append(entry)
    lines = [HEADER, f"{len(nodes)} nodes in {len(categories)} categories.", ""]
    lines += ["| Category | Nodes |", "|---|---|"]
    for category in sorted(categories):
        ids = ", ".join(f"`{e['action']}`" for e in categories[category])
        lines.append(f"| {category} | {ids} |")
    lines.append("")
    for category in sorted(categories):
        lines += [f"## {category}", ""]
        for entry in categories[category]:
            lines += _node(entry)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render())
