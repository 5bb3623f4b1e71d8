"""Flow files (docs/flows-as-code.md): one workflow per `.json`/`.yaml` file, read from the operator's folder
or an organisation's Git repository. Parsing only: a problem names the file, the line and (for a flow that
does not validate) the node, so the author can go straight to it.

A file is read as import reads a document (flomation.lib.flow_document): this API's export (`format:
flomation-workflow`, `name`, `description`, `flow`) with an optional `environment`, Flomation's export
wrapper (`flomation_export` + `flow_data`), or a bare flow (`nodes`, `edges`, optional `name`/
`description`/`environment` beside them).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from flomation.core.services.errors import FlowInvalid
from flomation.core.services.workflows import MAX_NAME_LENGTH, flow_validate
from flomation.lib.flow_document import FlowDocumentError, flow_document_load

SUFFIXES = (".json", ".yaml", ".yml")
MAX_PATH_LENGTH = 500  # Workflow.source_path
# Keys of an export that a flow file may carry and that mean nothing here.
_IGNORED_KEYS = {"revision", "secrets_to_set"}


@dataclass(frozen=True)
class FileProblem:
    """Why a file cannot be deployed; `line` is 1-based where it is known."""

    file: str
    message: str
    line: int | None = None
    node_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "node_id": self.node_id, "message": self.message}

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        node = f" (node {self.node_id!r})" if self.node_id else ""
        return f"{where}{node}: {self.message}"


@dataclass(frozen=True)
class FlowFile:
    path: str
    name: str
    description: str
    environment: str
    flow: dict[str, Any]
    digest: str


class FlowFileInvalid(Exception):
    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


def flow_file_wanted(path: str) -> bool:
    """Whether a path in a folder or repository is a flow file (hidden files and folders are not)."""
    parts = path.split("/")
    return path.lower().endswith(SUFFIXES) and not any(part.startswith(".") for part in parts)


def _key_line(text: str, key: str, value: str | None = None) -> int | None:
    """The first line that sets `key` (to `value`, if given) in JSON or YAML text; None if not found."""
    quoted = r"[\"']?"
    pattern = rf"^\s*-?\s*{quoted}{re.escape(key)}{quoted}\s*:"
    if value is not None:
        pattern += rf"\s*{quoted}{re.escape(value)}{quoted}\s*,?\s*$"
    found = re.compile(pattern)
    for number, line in enumerate(text.splitlines(), start=1):
        if found.search(line) or (value is not None and found.search(line.split(",")[0])):
            return number
    if value is not None:  # `{"id": "n1", "type": ...}` on one line
        inline = re.compile(rf"{quoted}{re.escape(key)}{quoted}\s*:\s*{quoted}{re.escape(value)}{quoted}")
        for number, line in enumerate(text.splitlines(), start=1):
            if inline.search(line):
                return number
    return None


def flow_file_parse(*, path: str, content: bytes, default_environment: str) -> FlowFile:
    """Reads one flow file; raises FlowFileInvalid with every problem found (file, line, node)."""
    if len(path) > MAX_PATH_LENGTH:
        raise FlowFileInvalid([FileProblem(path[:200] + "…", f"its path is longer than {MAX_PATH_LENGTH}")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FlowFileInvalid([FileProblem(path, f"not UTF-8 text (byte {error.start})")]) from None
    try:
        read = flow_document_load(text=text, filename=path)
    except FlowDocumentError as error:
        raise FlowFileInvalid([FileProblem(path, error.message, error.line)]) from None
    extra = sorted(set(read.extra) - _IGNORED_KEYS)
    if read.source == "export" and extra:
        line = _key_line(text, extra[0])
        raise FlowFileInvalid([FileProblem(path, f"unknown key {extra[0]!r} (check its spelling)", line)])
    flow = read.flow
    stem = posixpath.splitext(posixpath.basename(path))[0]
    name, description = read.name or stem, read.description
    environment = read.environment or default_environment
    problems = []
    if len(name.strip()) > MAX_NAME_LENGTH:
        problems.append(
            FileProblem(path, f"`name` is longer than {MAX_NAME_LENGTH}", _key_line(text, "name"))
        )
    try:
        flow_validate(flow=flow)
    except FlowInvalid as error:
        for item in error.flow_errors:
            node_id = item.get("node_id")
            line = _key_line(text, "id", str(node_id)) if node_id else _key_line(text, "flow")
            field = f"{item['field']}: " if item.get("field") else ""
            problems.append(FileProblem(path, f"{field}{item.get('message', '')}", line, node_id))
    if problems:
        raise FlowFileInvalid(problems)
    digest = hashlib.sha256(content + b"\0" + environment.encode()).hexdigest()
    return FlowFile(path, name.strip(), description, environment, flow, digest)
