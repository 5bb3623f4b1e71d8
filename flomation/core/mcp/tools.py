"""The tools of an environment: its current deployments whose flow has a `trigger/mcp` node."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flomation.core.models import Deployment, Environment, WorkflowState
from flomation.core.services.inputs import input_schema, manual_trigger_node
from flomation.executor.input_schema import SchemaField

MCP_TRIGGER = "trigger/mcp"
_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class FlowTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    deployment: Deployment


def _inputs(node: dict[str, Any]) -> dict[str, Any]:
    config = (node.get("data") or {}).get("config") or {}
    return {
        str(item.get("name")): item.get("value")
        for item in config.get("inputs") or []
        if isinstance(item, dict) and item.get("name")
    }


def _mcp_node(flow: Any) -> dict[str, Any] | None:
    for node in (flow or {}).get("nodes") or [] if isinstance(flow, dict) else []:
        data = node.get("data") or {} if isinstance(node, dict) else {}
        if MCP_TRIGGER in (node.get("type"), data.get("label")):
            return node
    return None


def _json_schema(fields: list[SchemaField]) -> dict[str, Any]:
    """A JSON Schema object for the manual trigger's fields ("any" type: no constraint)."""
    properties: dict[str, Any] = {}
    for field in fields:
        spec: dict[str, Any] = {} if field.type == "any" else {"type": field.type}
        described = field.description or (field.label if field.label != field.name else "")
        if described:
            spec["description"] = described
        if field.options:
            spec["enum"] = field.enum
        if field.has_default:
            spec["default"] = field.default
        for key, value in (("minimum", field.minimum), ("maximum", field.maximum),
                           ("minLength", field.min_length), ("maxLength", field.max_length)):  # fmt: skip
            if value is not None:
                spec[key] = value
        properties[field.name] = spec
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [field.name for field in fields if field.required and not field.has_default]
    if required:
        schema["required"] = required
    if fields:
        schema["additionalProperties"] = False
    return schema


def mcp_tools(*, environment: Environment) -> list[FlowTool]:
    """The environment's tools, by name; a flow whose schema is malformed is left out (it cannot be called)."""
    from django.core.exceptions import ValidationError

    tools: dict[str, FlowTool] = {}
    deployments = (
        Deployment.objects.select_related("revision", "workflow")
        .filter(environment=environment, is_current=True)
        .exclude(workflow__state__in=[WorkflowState.ARCHIVED, WorkflowState.PAUSED])
        .order_by("workflow__name", "workflow_id")
    )
    for deployment in deployments:
        node = _mcp_node(deployment.revision.flow)
        if node is None:
            continue
        own = _inputs(node)
        name = _NAME.sub("_", str(own.get("tool_name") or deployment.workflow.name)).strip("_")[:64] or "flow"
        try:
            fields = input_schema(node=manual_trigger_node(flow=deployment.revision.flow))
        except ValidationError:
            continue
        description = str(
            own.get("description") or deployment.workflow.description or deployment.workflow.name
        )
        if name not in tools:
            tools[name] = FlowTool(name, description, _json_schema(fields), deployment)
    return list(tools.values())


def tool_result(*, state: str | None, outputs: dict[str, Any] | None, error: str = "") -> dict[str, Any]:
    """A tools/call result: the flow's outputs as structured content and as JSON text."""
    if state == "succeeded":
        structured = outputs or {}
        return {"content": [{"type": "text", "text": json.dumps(structured, default=str)}],
                "structuredContent": structured, "isError": False}  # fmt: skip
    message = error or (f"The flow ended {state}." if state else "The flow did not finish in time.")
    return {"content": [{"type": "text", "text": message}], "isError": True}
