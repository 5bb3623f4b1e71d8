"""The manual trigger's input schema (seed 004) and validation of "run now" inputs against it.

The schema and the checks are the executor's (flomation.executor.input_schema), so inputs are judged the
same way here, before anything is queued, as by the `trigger/manual` node when the flow runs. A node keeps
its schema in its configured input `input_schema` (what the editor's property panel edits), or, in flows
written that way, in `data.config.inputSchema` / `data.inputSchema`:

    {"customerId": {"type": "string", "required": true},
     "action": {"type": "string", "enum": ["activate", "deactivate"], "required": true},
     "priority": {"type": "number", "default": 5, "min": 1, "max": 10}}

Types: string, number, integer, boolean, object, array (anything else is accepted as is). Numbers and
booleans given as strings ("5", "true") and objects and arrays given as JSON text are converted, since HTML
forms send strings.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from flomation.executor.input_schema import (
    SchemaError,
    SchemaField,
    inputs_check,
    node_schema_fields,
)

MANUAL_TRIGGER = "trigger/manual"


class InputsInvalid(ValidationError):
    """Inputs that do not match the schema. `field_errors` maps each input named to what is wrong with it;
    as a ValidationError it reads {"inputs": ["name: what is wrong", ...]}."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__({"inputs": [f"{name}: {message}" for name, message in field_errors.items()]})
        self.field_errors = dict(field_errors)


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


def input_schema(*, node: dict[str, Any] | None) -> list[SchemaField]:
    """The node's input schema as fields; [] when it declares none.

    Raises ValidationError when the schema is malformed (the flow's author has to fix it in the editor).
    """
    if not node:
        return []
    try:
        return node_schema_fields(node)
    except SchemaError as exc:
        raise ValidationError(
            {"input_schema": f"The manual trigger's input schema is not valid: {exc}. Fix it in the editor."}
        ) from None


def inputs_validate(*, schema: list[SchemaField], inputs: Any) -> dict[str, Any]:
    """Returns the inputs checked and completed with defaults, or raises InputsInvalid naming each input.

    With no schema any object of inputs is accepted as it is. With one, unknown inputs are refused.
    """
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict):
        raise ValidationError({"inputs": "Inputs must be a JSON object of name: value."})
    if not schema:
        return dict(inputs)
    check = inputs_check(fields=schema, inputs=inputs)
    if not check.ok:
        raise InputsInvalid(check.errors)
    return check.values
