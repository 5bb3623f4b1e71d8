"""Reading a flow from a document a person or another system wrote: this platform's export, Flomation's
export wrapper, or a bare `{nodes, edges}` flow, as JSON or YAML text.

Django-free so the API's import, the command line's `validate`, and loaders of flows kept in files or Git
share one reading: the same document gives the same flow, name and environment wherever it is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

EXPORT_FORMAT = "flomation-workflow"
YAML_SUFFIXES = (".yaml", ".yml")
# Keys beside nodes/edges in a bare flow that describe the workflow rather than the graph.
_DESCRIPTIVE_KEYS = ("name", "description", "environment")


class FlowDocumentError(ValueError):
    """A document that is not a readable flow; `line` (1-based) is set when the text itself is malformed."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class FlowDocument:
    """A flow read from a document, with what the document says about the workflow around it.

    `source` names the shape it came in: "export" (this platform), "flomation" (Flomation's export
    wrapper) or "flow" (bare nodes and edges). `extra` holds the document's other top-level keys.
    """

    flow: dict[str, Any]
    name: str | None = None
    description: str = ""
    environment: str | None = None
    source: str = "flow"
    extra: dict[str, Any] = field(default_factory=dict)


def flow_document_parse(*, text: str, filename: str = "") -> Any:
    """The JSON or YAML value in `text`: YAML when `filename` ends in .yaml/.yml, JSON when it ends in
    .json, otherwise JSON if the text starts with `{` and YAML if not. Raises FlowDocumentError with the
    line of the first syntax error. YAML anchors and aliases are refused: a few aliased lines can expand
    into gigabytes once the flow is stored."""
    lowered = filename.lower()
    as_yaml = lowered.endswith(YAML_SUFFIXES) or (
        not lowered.endswith(".json") and not text.lstrip().startswith(("{", "["))
    )
    if as_yaml:
        return _parse_yaml(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FlowDocumentError(f"not valid JSON: {error.msg}", line=error.lineno) from None


def flow_document_read(*, document: Any) -> FlowDocument:
    """The flow inside `document` (already parsed). Raises FlowDocumentError saying what shape was expected."""
    if not isinstance(document, dict):
        raise FlowDocumentError(
            "An import is a JSON object: an exported workflow, a Flomation export or a flow with nodes and edges."
        )
    if "flomation_export" in document or "flow_data" in document:
        return _read_flomation(document)
    if "flow" in document:
        if document.get("format") not in (None, EXPORT_FORMAT):
            raise FlowDocumentError(f"Unknown export format {document.get('format')!r}.")
        flow = _flow_object(document["flow"], where="flow")
        return FlowDocument(
            flow=flow,
            name=_text(document, "name"),
            description=_text(document, "description") or "",
            environment=_text(document, "environment"),
            source="export",
            extra={
                key: value
                for key, value in document.items()
                if key not in ("flow", "format", "version", *_DESCRIPTIVE_KEYS)
            },
        )
    if "nodes" in document:
        flow = {key: value for key, value in document.items() if key not in _DESCRIPTIVE_KEYS}
        _flow_object(flow, where="the document")
        return FlowDocument(
            flow=flow,
            name=_text(document, "name"),
            description=_text(document, "description") or "",
            environment=_text(document, "environment"),
            source="flow",
        )
    raise FlowDocumentError(
        "The document has no flow: expected nodes and edges, an exported workflow (flow) "
        "or a Flomation export (flomation_export and flow_data)."
    )


def flow_document_load(*, text: str, filename: str = "") -> FlowDocument:
    """flow_document_parse then flow_document_read."""
    return flow_document_read(document=flow_document_parse(text=text, filename=filename))


def _read_flomation(document: dict[str, Any]) -> FlowDocument:
    """Flomation's wrapper: `flomation_export` (version, source_flow_name, environment_name, ...) and
    `flow_data` (name, scale, x, y, revision) where `revision` is the `{nodes, edges}` graph (an object, or
    the same as a JSON string) and may be null for a flow never saved."""
    meta = document.get("flomation_export")
    data = document.get("flow_data")
    if not isinstance(meta, dict):
        raise FlowDocumentError("A Flomation export needs its flomation_export metadata object.")
    if not isinstance(data, dict):
        raise FlowDocumentError("A Flomation export needs a flow_data object.")
    revision = data.get("revision")
    if isinstance(revision, str):
        try:
            revision = json.loads(revision)
        except json.JSONDecodeError as error:
            raise FlowDocumentError(f"flow_data.revision is not valid JSON: {error.msg}") from None
    flow = (
        {"nodes": [], "edges": []} if revision is None else _flow_object(revision, where="flow_data.revision")
    )
    return FlowDocument(
        flow=flow,
        name=_text(data, "name") or _text(meta, "source_flow_name"),
        description=_text(data, "description") or "",
        environment=_text(meta, "environment_name") or _text(data, "environment_name"),
        source="flomation",
        extra={"flomation_export": meta},
    )


def _flow_object(value: Any, *, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("nodes", []), list):
        raise FlowDocumentError(f"{where} must be an object with a list of nodes.")
    if not isinstance(value.get("edges", []), list):
        raise FlowDocumentError(f"{where}: edges must be a list.")
    return value


def _text(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FlowDocumentError(f"{key} must be a string.")
    return value


def _parse_yaml(text: str) -> Any:
    import yaml

    class _NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise FlowDocumentError(
                    "YAML aliases (*name) are not accepted in a flow; write the value out",
                    line=event.start_mark.line + 1,
                )
            return super().compose_node(parent, index)

    # Dates stay text, as in JSON: a flow's `2026-01-01` is a string to the nodes that read it.
    _NoAliasLoader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        value = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
        json.dumps(value)
        return value
    except FlowDocumentError:
        raise
    except (TypeError, ValueError):  # an explicit !!set, !!binary, ... that JSON cannot hold
        raise FlowDocumentError("the YAML holds a value JSON cannot (a set, binary, or a date tag)") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "malformed"
        raise FlowDocumentError(f"not valid YAML: {problem}", line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise FlowDocumentError(f"not valid YAML: {error}") from None
