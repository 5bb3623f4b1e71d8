"""A manual trigger's input schema: where a flow keeps it, its one normal form, and checking inputs against it.

Pure Python (no Django): the `trigger/manual` node checks its trigger data here when a flow runs, and core
checks "run now" inputs here before it queues anything, so both judge inputs the same way.

Where a node keeps its schema (the first found wins):
1. its configured input named `input_schema` in `data.config.inputs`, which the editor's property panel edits;
2. `data.config.inputSchema` (or `data.config.input_schema`) and `data.inputSchema`, for flows written that
   way (the seed's `"inputSchema": {"customerId": {...}}`).

A schema is a list of fields `[{name, type, required, default, enum, description, min, max}]`, an object
keyed by field name `{name: spec}` (or `{"fields": [...]}`), or the JSON text of either. Types: string,
number, integer, boolean, object, array; a missing type is a string, an unknown one takes any value. Numbers
and booleans may be given as text ("5", "true") and objects and arrays as JSON text, since forms send text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

SCHEMA_INPUT = "input_schema"
ANY = "any"
_TYPES = {
    "string": "string",
    "str": "string",
    "text": "string",
    "number": "number",
    "float": "number",
    "integer": "integer",
    "int": "integer",
    "boolean": "boolean",
    "bool": "boolean",
    "object": "object",
    "json": "object",
    "array": "array",
    "list": "array",
}
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class SchemaError(ValueError):
    """The schema itself is malformed; the message says how (the flow's author must fix it)."""


@dataclass(frozen=True)
class SchemaField:
    """One declared input. `options` are (value, label) pairs; `has_default` tells a null default apart."""

    name: str
    type: str = "string"
    required: bool = False
    has_default: bool = False
    default: Any = None
    options: tuple[tuple[Any, str], ...] = ()
    description: str = ""
    label: str = ""
    minimum: int | float | None = None
    maximum: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None

    @property
    def enum(self) -> list[Any]:
        return [value for value, _label in self.options]


@dataclass
class SchemaCheck:
    """The outcome of checking inputs: the values to use (converted, defaults filled in) and, per field,
    what was wrong with it. `ok` when there is nothing wrong."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- where the schema lives --------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def node_schema(node: Any) -> Any:
    """The raw schema a flow node declares (see the module docstring for where), or None."""
    data = _dict(_dict(node).get("data"))
    config = _dict(data.get("config"))
    for connection in config.get("inputs") or []:
        if isinstance(connection, dict) and connection.get("name") == SCHEMA_INPUT:
            if not _blank_schema(connection.get("value")):
                return connection.get("value")
            break
    for raw in (config.get("inputSchema"), config.get("input_schema"), data.get("inputSchema")):
        if not _blank_schema(raw):
            return raw
    return None


def _blank_schema(raw: Any) -> bool:
    return raw is None or raw == "" or raw == [] or raw == {} or (isinstance(raw, str) and not raw.strip())


def node_schema_fields(node: Any) -> list[SchemaField]:
    """The node's schema in normal form; [] when it declares none. Raises SchemaError when malformed."""
    return schema_fields(node_schema(node))


# --- the normal form ---------------------------------------------------------------------------------


def schema_fields(raw: Any) -> list[SchemaField]:
    """Any accepted way of writing a schema as a list of fields. Raises SchemaError when malformed."""
    if _blank_schema(raw):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise SchemaError(f"input_schema is not valid JSON ({exc})") from None
    if isinstance(raw, dict) and isinstance(raw.get("fields"), list):
        raw = raw["fields"]
    if isinstance(raw, dict):
        raw = [
            {**(spec if isinstance(spec, dict) else {"type": spec}), "name": name}
            for name, spec in raw.items()
        ]
    if not isinstance(raw, list):
        raise SchemaError("input_schema must be a list of fields or an object of name: field")
    fields = [_field(item) for item in raw]
    names = [f.name for f in fields]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SchemaError(f"input_schema declares {', '.join(duplicates)} more than once")
    return fields


def _field(spec: Any) -> SchemaField:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"].strip():
        raise SchemaError("input_schema must be a list of fields, each with a name")
    name = spec["name"].strip()
    options = _options(spec.get("enum") if spec.get("enum") is not None else spec.get("options"), name)
    written = spec.get("type")
    kind = _kind_of_options(options) if written is None else _TYPES.get(str(written).strip().lower(), ANY)
    return SchemaField(
        name=name,
        type=kind,
        required=spec.get("required") is True or str(spec.get("required")).lower() == "true",
        has_default="default" in spec and spec["default"] is not None,
        default=spec.get("default"),
        options=options,
        description=str(spec.get("description") or ""),
        label=str(spec.get("label") or spec.get("title") or name),
        minimum=_number(spec, "min", "minimum"),
        maximum=_number(spec, "max", "maximum"),
        min_length=_whole(spec, "minLength", "min_length"),
        max_length=_whole(spec, "maxLength", "max_length"),
    )


def _options(raw: Any, name: str) -> tuple[tuple[Any, str], ...]:
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, list):
        raise SchemaError(f"the enum of {name} must be a list of allowed values")
    options = []
    for option in raw:
        if isinstance(option, dict):
            value = option.get("value")
            options.append((value, str(option.get("label") or option.get("name") or value)))
        else:
            options.append((option, str(option)))
    return tuple(options)


def _kind_of_options(options: tuple[tuple[Any, str], ...]) -> str:
    """A field without a type is text, unless every allowed value is of another kind."""
    values = [value for value, _ in options]
    if values and all(isinstance(v, bool) for v in values):
        return "boolean"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "number"
    return "string"


def _number(spec: dict[str, Any], *keys: str) -> int | float | None:
    for key in keys:
        value = spec.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    return None


def _whole(spec: dict[str, Any], *keys: str) -> int | None:
    value = _number(spec, *keys)
    return int(value) if value is not None else None


# --- checking inputs ---------------------------------------------------------------------------------


def inputs_check(
    *, fields: list[SchemaField], inputs: dict[str, Any], allow_unknown: bool = False
) -> SchemaCheck:
    """Checks `inputs` against the fields: types, required, defaults, allowed values, limits.

    A blank input (missing, null or "") takes the field's default, is an error if the field is required,
    and is otherwise left out. Inputs the schema does not declare are errors unless `allow_unknown`; they
    are never copied into `values`.
    """
    check = SchemaCheck()
    declared = {f.name for f in fields}
    if not allow_unknown:
        expected = ", ".join(sorted(declared))
        for name in sorted(set(inputs) - declared):
            check.errors[name] = f"is not an input of this workflow (expected: {expected})"
    for spec in fields:
        value = inputs.get(spec.name)
        if value is None or value == "":
            if spec.has_default:
                check.values[spec.name] = spec.default
            elif spec.required:
                check.errors[spec.name] = "is required"
            continue
        try:
            check.values[spec.name] = _checked(spec, value)
        except ValueError as exc:
            check.errors[spec.name] = str(exc)
    return check


def _checked(spec: SchemaField, value: Any) -> Any:
    """The value as the field's type, within its limits; raises ValueError saying what is wrong."""
    value = _converted(spec.type, value)
    if spec.options and value not in spec.enum:
        raise ValueError("must be one of " + ", ".join(repr(option) for option in spec.enum))
    if spec.type in ("number", "integer"):
        if spec.minimum is not None and value < spec.minimum:
            raise ValueError(f"must be at least {spec.minimum}")
        if spec.maximum is not None and value > spec.maximum:
            raise ValueError(f"must be at most {spec.maximum}")
    if spec.type == "string":
        if spec.min_length is not None and len(value) < spec.min_length:
            raise ValueError(f"must be at least {spec.min_length} characters long")
        if spec.max_length is not None and len(value) > spec.max_length:
            raise ValueError(f"must be at most {spec.max_length} characters long")
    return value


def _converted(kind: str, value: Any) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    if kind in ("number", "integer"):
        return _numeric(kind, value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("must be true or false")
    if kind in ("object", "array"):
        wanted, noun = (dict, "an object") if kind == "object" else (list, "an array")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError(f"must be {noun} (as JSON)") from None
        if not isinstance(value, wanted):
            raise ValueError(f"must be {noun}")
        return value
    return value


def _numeric(kind: str, value: Any) -> int | float:
    noun = "a number" if kind == "number" else "a whole number"
    if isinstance(value, bool):
        raise ValueError(f"must be {noun}, not a boolean")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"must be {noun}") from None
    if not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(f"must be {noun}")
    if kind == "integer":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value
