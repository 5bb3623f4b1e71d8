"""Answers for people (aligned columns, short lines) or for scripts (`--json`: one JSON document)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def emit_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    """Left-aligned columns; an empty list says so rather than printing a bare header."""
    if not rows:
        print("(none)")
        return
    cells = [[_cell(value) for value in row] for row in [headers, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    for row in cells:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    return str(value).replace("\n", " ")


def duration(ms: Any) -> str:
    if not isinstance(ms, int | float):
        return "-"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
