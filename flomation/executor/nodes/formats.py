"""Formats: dates, JSON, CSV, JMESPath and a field mapper."""

from __future__ import annotations

import json

from flomation.executor.coerce import to_dict, to_pairs, to_str
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.golayout import format_go, go_to_strptime
from flomation.executor.registry import Input, node
from flomation.executor.templates import MISSING, split_path, walk

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime, tzinfo
    from typing import Any

    from flomation.executor.engine.context import NodeContext

_OUTPUT_LAYOUTS = {
    "iso8601": "2006-01-02T15:04:05Z07:00",
    "rfc2822": "Mon, 02 Jan 2006 15:04:05 -0700",
    "date": "2006-01-02",
    "time": "15:04:05",
    "friendly": "02 Jan 2006, 15:04",
    "dmy": "02/01/2006",
    "mdy": "01/02/2006",
}
_AUTO = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%m/%d/%Y")


def _zone(name: str) -> tzinfo:
    from datetime import UTC

    if not name or name.upper() == "UTC":
        return UTC
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:
        raise NodeError(f"unknown timezone '{name}' (use an IANA name such as Europe/London)") from None


def parse_datetime(value: str, fmt: str, custom: str) -> datetime:
    from datetime import UTC, datetime

    text = value.strip()
    try:
        if fmt == "unix":
            return datetime.fromtimestamp(float(text), UTC)
        if fmt == "custom" and custom:
            pattern = custom if "%" in custom else go_to_strptime(custom)
            moment = datetime.strptime(text, pattern)
        elif fmt == "rfc2822":
            from email.utils import parsedate_to_datetime

            moment = parsedate_to_datetime(text)
        elif fmt in ("iso8601", "date", ""):
            try:
                moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
            except ValueError:
                if fmt:
                    raise
                moment = _auto(text)
        else:
            raise NodeError(f"unknown input_format '{fmt}'")
    except (ValueError, TypeError, OverflowError):
        raise NodeError(f"cannot read '{value}' as a date/time ({fmt or 'auto'})") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _auto(text: str) -> datetime:
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    for pattern in _AUTO:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValueError(text) from None


@node(
    "common/format_date",
    name="Format Date",
    category="data",
    inline=True,
    description="Format a date/time (or now) in a chosen layout and time zone, and split it into parts.",
    inputs=(
        Input("datetime", "string", description="Leave empty for the current time."),
        Input(
            "input_format", "string", default="", options=("", "iso8601", "rfc2822", "unix", "date", "custom")
        ),
        Input(
            "custom_input_format",
            "string",
            description="Go layout (2006-01-02 15:04:05) or strftime (%Y-%m-%d).",
        ),
        Input(
            "output_format",
            "string",
            default="iso8601",
            options=("iso8601", "rfc2822", "date", "time", "friendly", "dmy", "mdy", "unix", "custom"),
        ),
        Input(
            "custom_output_format", "string", description="Go layout (Monday, 02 January 2006) or strftime."
        ),
        Input("timezone", "string", default="UTC"),
    ),
    outputs=(
        "tool_result:string",
        "result:string",
        "year:integer",
        "month:integer",
        "day:integer",
        "hour:integer",
        "minute:integer",
        "second:integer",
        "day_of_week:string",
        "unix_timestamp:integer",
        "success:boolean",
        "error:string",
    ),
)
def format_date(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime

    zone = _zone(inputs["timezone"])
    raw = inputs.get("datetime")
    if raw:
        moment = parse_datetime(
            raw, inputs["input_format"], inputs.get("custom_input_format") or ""
        ).astimezone(zone)
    else:
        moment = datetime.now(zone)
    fmt = inputs["output_format"]
    custom = inputs.get("custom_output_format") or ""
    if fmt == "unix":
        text = str(int(moment.timestamp()))
    elif fmt == "custom" and custom:
        text = moment.strftime(custom) if "%" in custom else format_go(moment, custom)
    else:
        text = format_go(moment, _OUTPUT_LAYOUTS.get(fmt, _OUTPUT_LAYOUTS["iso8601"]))
    return {
        "tool_result": text,
        "result": text,
        "year": moment.year,
        "month": moment.month,
        "day": moment.day,
        "hour": moment.hour,
        "minute": moment.minute,
        "second": moment.second,
        "day_of_week": moment.strftime("%A"),
        "unix_timestamp": int(moment.timestamp()),
        "success": True,
        "error": "",
    }


@node(
    "data/json_parse",
    name="Parse JSON",
    category="data",
    inline=True,
    description="Parse JSON text into a value.",
    inputs=(Input("value", "text", required=True),),
    outputs=("result:object", "success:boolean"),
)
def json_parse(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"result": json.loads(inputs["value"]), "success": True}
    except ValueError as exc:
        raise NodeError(f"input 'value' is not valid JSON: {exc}") from None


@node(
    "data/json_stringify",
    name="Stringify JSON",
    category="data",
    description="Write a value as JSON text.",
    inputs=(
        Input("value", "any", required=True),
        Input("indent", "integer"),
        Input("sort_keys", "boolean", default=False),
    ),
    outputs=("result:string",),
)
def json_stringify(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    indent = inputs.get("indent")
    separators = None if indent else (",", ":")
    text = json.dumps(
        inputs["value"],
        indent=indent or None,
        separators=separators,
        sort_keys=inputs["sort_keys"],
        ensure_ascii=False,
        default=str,
    )
    return {"result": text}


@node(
    "data/csv_parse",
    name="Parse CSV",
    category="data",
    inline=True,
    description="Parse CSV text into rows, and into records keyed by the header row.",
    inputs=(
        Input("csv", "text", required=True),
        Input("delimiter", "string", default=","),
        Input("has_header", "boolean", default=True),
    ),
    outputs=("rows:array", "records:array", "columns:array", "count:integer"),
)
def csv_parse(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    import csv

    delimiter = inputs["delimiter"]
    if len(delimiter) != 1:
        raise NodeError("input 'delimiter' must be a single character")
    try:
        rows = list(csv.reader(inputs["csv"].splitlines(), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise NodeError(f"input 'csv' is not valid CSV: {exc}") from None
    columns: list[str] = []
    records: list[dict[str, str]] = []
    data = rows
    if inputs["has_header"] and rows:
        columns, data = rows[0], rows[1:]
        records = [dict(zip(columns, row, strict=False)) for row in data]
    return {"rows": data, "records": records, "columns": columns, "count": len(data)}


@node(
    "data/csv_format",
    name="Format CSV",
    category="data",
    description="Write rows (arrays) or records (objects) as CSV text.",
    inputs=(
        Input("data", "array", required=True),
        Input(
            "columns", "multi_select", description="Column order for records (default: keys of the first)."
        ),
        Input("delimiter", "string", default=","),
        Input("include_header", "boolean", default=True),
    ),
    outputs=("result:string", "count:integer"),
)
def csv_format(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    import csv
    import io

    delimiter = inputs["delimiter"]
    if len(delimiter) != 1:
        raise NodeError("input 'delimiter' must be a single character")
    data = inputs["data"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    if data and all(isinstance(item, dict) for item in data):
        columns = [to_str(c) for c in inputs.get("columns") or []] or list(data[0])
        if inputs["include_header"]:
            writer.writerow(columns)
        for item in data:
            writer.writerow([to_str(item.get(c)) for c in columns])
    else:
        for row in data:
            if not isinstance(row, list):
                raise NodeError("input 'data' must be a list of rows (arrays) or of records (objects)")
            writer.writerow([to_str(v) for v in row])
    return {"result": buffer.getvalue(), "count": len(data)}


@node(
    "data/jmespath",
    name="JMESPath Transform",
    category="data",
    description="Query or reshape data with a JMESPath expression.",
    inputs=(Input("data", "object", required=True), Input("expression", "string", required=True)),
    outputs=("result:object",),
)
def jmespath_node(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return {"result": jmespath.search(inputs["expression"], inputs["data"])}
    except JMESPathError as exc:
        raise NodeError(f"input 'expression' is not a valid JMESPath expression: {exc}") from None


@node(
    "data/field_map",
    name="Field Mapper",
    category="data",
    description="Build an object: each target field takes the value at a source path (a.b[0]) of the source.",
    inputs=(
        Input("source", "object", required=True),
        Input("mapping", "key_value_array", required=True, description="target field -> source path"),
        Input("keep_unmapped", "boolean", default=False),
        Input("default", "any", description="Value for a path that is not there (default null)."),
    ),
    outputs=("result:object", "missing:array"),
)
def field_map(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    try:
        source = to_dict(inputs["source"])
    except ValueError as exc:
        raise NodeError(f"input 'source' {exc}") from None
    result: dict[str, Any] = dict(source) if inputs["keep_unmapped"] else {}
    missing = []
    for target, path in to_pairs(inputs["mapping"]):
        value = walk(source, split_path(to_str(path)))
        if value is MISSING:
            missing.append(target)
            value = inputs.get("default")
        result[target] = value
    return {"result": result, "missing": missing}
