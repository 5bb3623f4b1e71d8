"""Typed accessors: turn a rendered input value into what a node declared it wants.

Every function raises ``ValueError`` with a message a flow author can act on; the engine
wraps it with the node id and input name.
"""

from __future__ import annotations

import json
import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})


def is_blank(value: Any) -> bool:
    """True for the values that count as "not set": None and the empty string."""
    return value is None or value == ""


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON, non-ASCII kept, anything unknown rendered with ``str``."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str, sort_keys=sort_keys)


def to_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return dumps(value)


def to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"expects a finite number, got {value!r}")
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expects a number, got {_show(value)}") from None
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f"expects a finite number, got {_show(value)}")
        return number
    raise ValueError(f"expects a number, got {type_name(value)}")


def to_int(value: Any) -> int:
    """Whole numbers; a float or numeric string is truncated towards zero (as Flomation does)."""
    return int(to_number(value))


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"expects a boolean (true/false, yes/no, on/off, 1/0), got {_show(value)}")


def parse_json_text(value: Any) -> Any:
    """Parse a JSON string when it looks like an object or array; return anything else unchanged."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "[") and text[-1:] in ("}", "]"):
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


def to_object(value: Any) -> Any:
    """Objects and arrays pass through; a JSON string is parsed; other values stay as they are."""
    return parse_json_text(value)


def to_list(value: Any) -> list[Any]:
    value = parse_json_text(value)
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    raise ValueError(f"expects an array, got {_show(value)}")


def to_dict(value: Any) -> dict[str, Any]:
    value = parse_json_text(value)
    if isinstance(value, dict):
        return value
    raise ValueError(f"expects an object, got {_show(value)}")


def to_pairs(value: Any) -> list[tuple[str, Any]]:
    """A ``key_value_array``: ``[{key, value}]``, its JSON text, or a plain object."""
    if is_blank(value):
        return []
    value = parse_json_text(value)
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        pairs: list[tuple[str, Any]] = []
        for item in value:
            if isinstance(item, dict) and "key" in item:
                pairs.append((to_str(item.get("key")), item.get("value")))
            elif isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((to_str(item[0]), item[1]))
            else:
                raise ValueError(f"expects a list of {{key, value}} pairs, got an item {_show(item)}")
        return pairs
    raise ValueError(f"expects a list of {{key, value}} pairs, got {_show(value)}")


def to_rows(value: Any) -> list[list[Any]]:
    rows = to_list(value)
    if not all(isinstance(row, list) for row in rows):
        raise ValueError("expects a two-dimensional array (a list of rows)")
    return rows


def to_multi(value: Any) -> list[Any]:
    if is_blank(value):
        return []
    value = parse_json_text(value)
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


_STRINGISH = frozenset(
    {
        "string",
        "text",
        "code",
        "secret",
        "credential",
        "connection",
        "colour",
        "combobox",
        "datetime",
        "file",
        "money",
    }
)


def coerce(kind: str, value: Any) -> Any:
    """Convert ``value`` to the declared input ``kind``; blank values are returned as ``None``."""
    if is_blank(value):
        return None
    if kind in _STRINGISH:
        return to_str(value)
    if kind == "integer":
        return to_int(value)
    if kind == "number":
        return to_number(value)
    if kind == "boolean":
        return to_bool(value)
    if kind == "object":
        return to_object(value)
    if kind == "array":
        return to_list(value)
    if kind == "key_value_array":
        return to_pairs(value)
    if kind == "rows":
        return to_rows(value)
    if kind == "multi_select":
        return to_multi(value)
    return value


def parse_duration(text: Any) -> float:
    """Seconds in a duration such as ``90``, ``1.5s``, ``5m``, ``1h30m``, ``2d`` or ``1w``."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    raw = to_str(text).strip().lower()
    if not raw:
        raise ValueError("expects a duration such as 30s, 5m, 2h, 1d or 1w")
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
    total = 0.0
    number = ""
    i = 0
    matched = False
    while i < len(raw):
        ch = raw[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if raw.startswith("ms", i) else ch
        if unit not in units or not number:
            raise ValueError(f"expects a duration such as 30s, 5m, 2h, 1d or 1w, got {_show(text)}")
        total += float(number) * units[unit]
        number = ""
        matched = True
        i += len(unit)
    if number:
        if matched:
            raise ValueError(f"expects a duration such as 30s, 5m, 2h, 1d or 1w, got {_show(text)}")
        total = float(number)
    return total


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else to_str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return repr(text) if isinstance(value, str) else f"{type_name(value)} {text}"
