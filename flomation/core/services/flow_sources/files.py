"""Flow files (docs/flows-as-code.md): one workflow per `.json`/`.yaml` file, read from the operator's folder
or an organisation's Git repository. Parsing only: a problem names the file, the line and (for a flow that
does not validate) the node, so the author can go straight to it.

A file is this API's export document (`format: flomation-workflow`, `name`, `description`, `flow`) with an
optional `environment`; a bare flow (`nodes`, `edges`, optional `name`/`description`/`environment` beside
them) is accepted too, as workflow import accepts it.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from flomation.core.services.errors import FlowInvalid
from flomation.core.services.workflows import EXPORT_FORMAT, MAX_NAME_LENGTH, flow_validate

SUFFIXES = (".json", ".yaml", ".yml")
_KNOWN_KEYS = {
    "format",
    "version",
    "name",
    "description",
    "environment",
    "flow",
    "revision",
    "secrets_to_set",
}


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


def _load(path: str, text: str) -> Any:
    if path.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise FlowFileInvalid([FileProblem(path, f"not valid JSON: {error.msg}", error.lineno)]) from None
    import yaml

    class NoAliases(yaml.SafeLoader):
        """YAML without anchors' aliases: a few lines of them expand into gigabytes once stored as JSON."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=NoAliases)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "cannot be read"
        line = mark.line + 1 if mark is not None else None
        raise FlowFileInvalid([FileProblem(path, f"not valid YAML: {problem}", line)]) from None
    except yaml.YAMLError as error:
        raise FlowFileInvalid([FileProblem(path, f"not valid YAML: {error}")]) from None


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
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FlowFileInvalid([FileProblem(path, f"not UTF-8 text (byte {error.start})")]) from None
    document = _load(path, text)
    if not isinstance(document, dict):
        raise FlowFileInvalid([FileProblem(path, "a flow file is an object with a name and a flow", 1)])
    if "flow" in document:
        flow = document["flow"]
        if document.get("format") not in (None, EXPORT_FORMAT):
            line = _key_line(text, "format")
            raise FlowFileInvalid([FileProblem(path, f"unknown format {document.get('format')!r}", line)])
        extra = sorted(set(document) - _KNOWN_KEYS)
        if extra:
            line = _key_line(text, extra[0])
            raise FlowFileInvalid([FileProblem(path, f"unknown key {extra[0]!r} (check its spelling)", line)])
    elif "nodes" in document:
        flow = {k: v for k, v in document.items() if k not in ("name", "description", "environment")}
    else:
        raise FlowFileInvalid([FileProblem(path, "the file has neither `flow` nor `nodes`", 1)])
    stem = posixpath.splitext(posixpath.basename(path))[0]
    name, description = document.get("name") or stem, document.get("description") or ""
    environment = document.get("environment") or default_environment
    problems = []
    for key, value in (("name", name), ("description", description), ("environment", environment)):
        if not isinstance(value, str):
            problems.append(FileProblem(path, f"`{key}` must be a string", _key_line(text, key)))
    if isinstance(name, str) and len(name.strip()) > MAX_NAME_LENGTH:
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
    digest = hashlib.sha256(content + b"\0" + str(environment).encode()).hexdigest()
    return FlowFile(path, str(name).strip(), str(description), str(environment), flow, digest)


def flow_file_document(*, name: str, description: str, environment: str | None, flow: Any) -> dict[str, Any]:
    """A workflow as a flow file (the export document plus its environment), for 'export to a file'."""
    document: dict[str, Any] = {"format": EXPORT_FORMAT, "version": 1, "name": name}
    if description:
        document["description"] = description
    if environment:
        document["environment"] = environment
    document["flow"] = flow
    return document
