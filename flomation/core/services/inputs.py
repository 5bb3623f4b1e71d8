"""The manual trigger's input schema (seed 004) and validation of "run now" inputs against it.

A `trigger/manual` node declares its inputs in `data.config.inputSchema` (also read: `input_schema`, or
`data.inputSchema`), either as an object keyed by input name or as a list of entries with a `name`:

    {"customerId": {"type": "string", "required": true},
     "action": {"type": "string", "enum": ["activate", "deactivate"], "required": true},
     "priority": {"type": "number", "default": 5, "min": 1, "max": 10}}

Types: string, number, integer, boolean, object, array (anything else is accepted as is). Numbers and
booleans given as strings ("5", "true") are converted, since HTML forms send strings.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError

MANUAL_TRIGGER = "trigger/manual"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _action(node: dict[str, Any]) -> str:
    data = node.get("data") if isinstance(node.get("data"), dict) else {}
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    return str(node.get("type") or data.get("label") or config.get("plugin") or "")


def manual_trigger_node(*, flow: Any, node_id: str | None = None) -> dict[str, Any] | None:
    """The flow's manual trigger node (the one with `node_id` if given), or None."""
    nodes = flow.get("nodes") if isinstance(flow, dict) else None
    for node in nodes or []:
        if not isinstance(node, dict) or _action(node) != MANUAL_TRIGGER:
            continue
        if node_id is None or str(node.get("id")) == node_id:
            return node
    return None


def input_schema(*, node: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The node's input schema normalised to {name: spec}; {} when it declares none."""
    if not node:
        return {}
    data = node.get("data") if isinstance(node.get("data"), dict) else {}
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    raw = config.get("inputSchema") or config.get("input_schema") or data.get("inputSchema") or {}
    if isinstance(raw, list):
        raw = {str(item["name"]): item for item in raw if isinstance(item, dict) and item.get("name")}
    if not isinstance(raw, dict):
        return {}
    return {str(name): (spec if isinstance(spec, dict) else {"type": spec}) for name, spec in raw.items()}


def _coerce(value: Any, kind: str) -> Any:
    """Returns the value as `kind`; raises ValueError with a message for the caller."""
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    if kind in ("number", "integer"):
        if isinstance(value, bool):
            raise ValueError(f"must be a {kind}, not a boolean")
        if isinstance(value, str):
            try:
                value = float(value.strip()) if kind == "number" else int(value.strip())
            except ValueError:
                raise ValueError(f"must be a {kind}") from None
        if not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError(f"must be a {kind}")
        if kind == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("must be a whole number")
            value = int(value)
        return value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("must be true or false")
    if kind == "object":
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        return value
    if kind == "array":
        if not isinstance(value, list):
            raise ValueError("must be an array")
        return value
    return value


def _check_one(name: str, spec: dict[str, Any], value: Any) -> Any:
    kind = str(spec.get("type") or "string").lower()
    value = _coerce(value, kind)
    enum = spec.get("enum")
    if isinstance(enum, list) and enum and value not in enum:
        raise ValueError("must be one of " + ", ".join(repr(option) for option in enum))
    if kind in ("number", "integer"):
        low, high = spec.get("min", spec.get("minimum")), spec.get("max", spec.get("maximum"))
        if isinstance(low, int | float) and value < low:
            raise ValueError(f"must be at least {low}")
        if isinstance(high, int | float) and value > high:
            raise ValueError(f"must be at most {high}")
    if kind == "string":
        low, high = spec.get("minLength"), spec.get("maxLength")
        if isinstance(low, int) and len(value) < low:
            raise ValueError(f"must be at least {low} characters long")
        if isinstance(high, int) and len(value) > high:
            raise ValueError(f"must be at most {high} characters long")
    return value


def inputs_validate(*, schema: dict[str, dict[str, Any]], inputs: Any) -> dict[str, Any]:
    """Returns the inputs checked and completed with defaults, or raises ValidationError naming each input.

    With no schema any object of inputs is accepted as it is. With one, unknown inputs are refused.
    """
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict):
        raise ValidationError({"inputs": "Inputs must be a JSON object of name: value."})
    if not schema:
        return dict(inputs)
    problems: list[str] = []
    result: dict[str, Any] = {}
    for name in sorted(set(inputs) - set(schema)):
        problems.append(f"{name}: is not an input of this workflow (expected: {', '.join(sorted(schema))})")
    for name, spec in schema.items():
        if name not in inputs or inputs[name] is None or inputs[name] == "":
            if "default" in spec:
                result[name] = spec["default"]
            elif spec.get("required"):
                problems.append(f"{name}: is required")
            continue
        try:
            result[name] = _check_one(name, spec, inputs[name])
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise ValidationError({"inputs": problems})
    return result
