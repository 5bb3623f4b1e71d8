"""The Run dialog's form: one labelled control per field of the manual trigger's input schema.

Only presentation lives here; what the fields are, and whether the values given are right, is core's answer
(which is the executor's), so the dialog and the run agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flomation.core.services.inputs import SchemaField

CONTROLS = {
    "string": "text",
    "number": "number",
    "integer": "number",
    "boolean": "checkbox",
    "object": "json",
    "array": "json",
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class RunControl:
    """How one field is asked for. `control` is text, number, checkbox, select or json (a textarea)."""

    field: SchemaField
    dom_id: str
    control: str
    value: str = ""
    checked: bool = False
    step: str = ""
    choices: tuple[Choice, ...] = ()
    placeholder: str = ""


def _text(value: Any) -> str:
    """A value as the text a form control holds (and core converts back by the field's type)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _control(field: SchemaField, index: int) -> RunControl:
    dom_id = f"run-input-{index}"
    default = field.default if field.has_default else None
    if field.options:
        chosen = _text(default)
        choices = tuple(Choice(_text(value), label, _text(value) == chosen) for value, label in field.options)
        return RunControl(field, dom_id, "select", value=chosen, choices=choices)
    control = CONTROLS.get(field.type, "text")
    if control == "checkbox":
        checked = default is True or str(default).strip().lower() in ("true", "1", "yes", "on")
        return RunControl(field, dom_id, control, checked=checked)
    if control == "number":
        step = "1" if field.type == "integer" else "any"
        return RunControl(field, dom_id, control, value=_text(default), step=step)
    if control == "json":
        text = (
            default
            if isinstance(default, str)
            else ("" if default is None else json.dumps(default, indent=2))
        )
        placeholder = '{"key": "value"}' if field.type == "object" else '["first", "second"]'
        return RunControl(field, dom_id, control, value=text, placeholder=placeholder)
    return RunControl(field, dom_id, "text", value=_text(default))


def run_controls(*, fields: list[SchemaField]) -> list[RunControl]:
    return [_control(field, index) for index, field in enumerate(fields, start=1)]
