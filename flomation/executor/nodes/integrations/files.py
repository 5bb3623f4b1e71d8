"""file/read and file/write: files in the run's workspace ``/work``, the directory script nodes share.

Text, JSON, CSV or base64 (binary). Reads are capped at 5 MB (Flomation's limit), writes at the script
sandbox's largest file (``script_max_file_mb``). Paths never leave the workspace (see workspace_files).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import os

from flomation.executor.coerce import parse_json_text, to_str
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations import workspace_files as wf
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.executor.sandbox.workspace import Workspace

MAX_READ_BYTES = 5 * 1024 * 1024
FORMATS = ("text", "json", "csv", "base64")
_PATH = "A path in the run's workspace: /work/name.csv or name.csv (never outside /work)."


def _workspace(ctx: NodeContext) -> Workspace:
    from flomation.executor.sandbox import isolation

    run = ctx.resource("isolation", lambda: isolation.RunIsolation(ctx.settings))
    return run.ensure_workspace()


_CSV_INPUTS = (
    Input("delimiter", "string", default=",", description="CSV: the field separator (one character)."),
    Input("header", "boolean", default=True, description="CSV: the first row names the columns."),
)


@node(
    "file/read",
    name="Read File",
    category="files",
    description="Read a file from the run's workspace /work as text, JSON, CSV rows or base64.",
    inputs=(
        Input("file_path", "string", required=True, description=_PATH),
        Input("format", "string", default="text", options=FORMATS, description="How to read the file."),
        Input("encoding", "string", default="utf-8", description="Text encoding (text, JSON and CSV)."),
        *_CSV_INPUTS,
    ),
    outputs=(
        "content:string",
        "data:any",
        "file_name:string",
        "file_size:integer",
        "file_path:string",
        "success:boolean",
    ),
)
def read_file(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    workspace = _workspace(ctx)
    parts = wf.parts_of(workspace, inputs["file_path"])
    fd = wf.open_file(workspace, parts)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_READ_BYTES:
            raise NodeError(
                f"{wf.shown_path(parts)} is {size} bytes; file/read reads at most {MAX_READ_BYTES}"
            )
        raw = handle.read(MAX_READ_BYTES + 1)
    if len(raw) > MAX_READ_BYTES:
        raise NodeError(f"{wf.shown_path(parts)} grew past {MAX_READ_BYTES} bytes while it was read")
    form = inputs["format"]
    data: Any = None
    if form == "base64":
        content = base64.b64encode(raw).decode("ascii")
    else:
        content = _decode(raw, inputs.get("encoding") or "utf-8", parts)
        if form == "json":
            try:
                data = json.loads(content)
            except ValueError as error:
                raise NodeError(f"{wf.shown_path(parts)} is not valid JSON: {error}") from None
        elif form == "csv":
            data = _csv_rows(content, _delimiter(inputs), bool(inputs.get("header")))
    return {
        "content": content,
        "data": data,
        "file_name": parts[-1],
        "file_size": len(raw),
        "file_path": wf.shown_path(parts),
        "success": True,
    }


@node(
    "file/write",
    name="Write File",
    category="files",
    description="Write text, JSON, CSV rows or base64 (binary) to a file in the run's workspace /work.",
    inputs=(
        Input("file_path", "string", required=True, description=_PATH),
        Input(
            "content",
            "any",
            description="What to write: text; for JSON any value; for CSV an array of objects or of arrays "
            "(or CSV text); for base64 the encoded bytes.",
        ),
        Input("format", "string", default="text", options=FORMATS, description="How to write the content."),
        Input(
            "mode",
            "string",
            default="overwrite",
            options=("overwrite", "append", "create"),
            description="overwrite (replace), append (add to the end) or create (fail if the file exists).",
        ),
        Input("encoding", "string", default="utf-8", description="Text encoding (text, JSON and CSV)."),
        *_CSV_INPUTS,
    ),
    outputs=("file_name:string", "file_size:integer", "file_path:string", "success:boolean"),
)
def write_file(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    form = inputs["format"]
    payload = _encode(inputs.get("content"), form, inputs)
    limit = int(ctx.settings.script_max_file_mb) * 1024 * 1024
    if len(payload) > limit:
        raise NodeError(
            f"the content is {len(payload)} bytes; file/write writes at most {limit} (script_max_file_mb)"
        )
    workspace = _workspace(ctx)
    parts = wf.parts_of(workspace, inputs["file_path"])
    mode = inputs["mode"]
    fd = wf.open_file(workspace, parts, write=mode)
    with os.fdopen(fd, "wb") as handle:
        if mode == "overwrite":
            handle.truncate(0)
        handle.write(payload)
        handle.flush()
        size = os.fstat(handle.fileno()).st_size
    if size > limit:
        raise NodeError(f"{wf.shown_path(parts)} is now {size} bytes, past the limit of {limit}")
    return {"file_name": parts[-1], "file_size": size, "file_path": wf.shown_path(parts), "success": True}


def _decode(raw: bytes, encoding: str, parts: list[str]) -> str:
    try:
        return raw.decode(encoding)
    except LookupError:
        raise NodeError(f"input 'encoding': unknown encoding '{encoding[:40]}'") from None
    except UnicodeDecodeError:
        raise NodeError(
            f"{wf.shown_path(parts)} is not {encoding} text: read it with format base64"
        ) from None


def _delimiter(inputs: dict[str, Any]) -> str:
    delimiter = inputs.get("delimiter") or ","
    if delimiter == "\\t":
        delimiter = "\t"
    if len(delimiter) != 1:
        raise NodeError("input 'delimiter' must be one character")
    return delimiter


def _csv_rows(text: str, delimiter: str, header: bool) -> list[Any]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [row for row in reader if row]
    if not header or not rows:
        return rows
    names = rows[0]
    return [dict(zip(names, row + [""] * (len(names) - len(row)), strict=False)) for row in rows[1:]]


def _encode(content: Any, form: str, inputs: dict[str, Any]) -> bytes:
    encoding = inputs.get("encoding") or "utf-8"
    if form == "base64":
        try:
            return base64.b64decode("".join(to_str(content).split()), validate=True)
        except (binascii.Error, ValueError):
            raise NodeError("input 'content' is not valid base64") from None
    if form == "json":
        if isinstance(content, str):
            try:
                json.loads(content)
                text = content
            except ValueError:
                text = json.dumps(content, ensure_ascii=False)
        else:
            text = json.dumps(content, ensure_ascii=False, indent=2)
    elif form == "csv":
        text = _csv_text(parse_json_text(content), _delimiter(inputs), bool(inputs.get("header")))
    else:
        text = to_str(content)
    try:
        return text.encode(encoding)
    except LookupError:
        raise NodeError(f"input 'encoding': unknown encoding '{encoding[:40]}'") from None
    except UnicodeEncodeError:
        raise NodeError(f"the content cannot be written as {encoding}") from None


def _csv_text(rows: Any, delimiter: str, header: bool) -> str:
    if isinstance(rows, str):
        return rows
    if not isinstance(rows, list):
        raise NodeError("for CSV, input 'content' must be an array of objects or of arrays (or CSV text)")
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if rows and all(isinstance(row, dict) for row in rows):
        names: list[str] = []
        for row in rows:
            names += [str(key) for key in row if str(key) not in names]
        if header:
            writer.writerow(names)
        writer.writerows([[_cell(row.get(name)) for name in names] for row in rows])
    else:
        for row in rows:
            writer.writerow([_cell(item) for item in row] if isinstance(row, list) else [_cell(row)])
    return out.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None else to_str(value)
