"""`POST /api/v1/mcp/<environment id>`: the MCP Streamable HTTP endpoint (JSON-RPC 2.0, JSON responses)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from flomation import __version__
from flomation.core.executions.control import execution_run_now
from flomation.core.executions.waits import execution_wait_finished
from flomation.core.mcp.tools import FlowTool, mcp_tools, tool_result
from flomation.core.models import ApiToken, Environment, Execution
from flomation.core.permissions import NotFound, PermissionDenied, membership_require
from flomation.core.services.errors import Conflict
from flomation.core.services.tokens import api_token_authenticate

logger = logging.getLogger(__name__)

# Handshake-era revisions of the protocol this server speaks, newest first.
PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
# How long a tools/call waits for the flow; a flow still running then is reported as not finished.
CALL_TIMEOUT_SECONDS = 120.0
MAX_BODY_BYTES = 1_000_000
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602


def _error(message_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": message}}


def _refuse(status: int, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse(_error(None, INVALID_REQUEST, message), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _caller(request: HttpRequest, environment_id: Any) -> tuple[ApiToken, Environment] | JsonResponse:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    token = api_token_authenticate(plaintext=value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return _refuse(401, "A valid API token is required: Authorization: Bearer flo_...",
                       {"WWW-Authenticate": 'Bearer realm="flomation"'})  # fmt: skip
    environment = Environment.objects.filter(id=environment_id, organisation_id=token.organisation_id).first()
    if environment is None:
        return _refuse(404, "No such environment in the token's organisation.")
    try:
        membership_require(account_or_user=token.account, organisation_id=token.organisation_id,
                           permission="flow.execute", api_token=token)  # fmt: skip
    except (NotFound, PermissionDenied) as error:
        return _refuse(403, str(error) or "The token's owner may not run flows.")
    return token, environment


def _origin_allowed(request: HttpRequest) -> bool:
    """A browser page of another site must not drive the endpoint (DNS rebinding): its Origin must be ours."""
    origin = request.headers.get("Origin")
    return not origin or urlsplit(origin).netloc == request.get_host()


@csrf_exempt
def endpoint(request: HttpRequest, environment_id: Any) -> HttpResponse:
    if request.method != "POST":
        # No server-initiated stream and no sessions to end: the spec's answer is 405.
        response = HttpResponse(status=405)
        response["Allow"] = "POST"
        return response
    if not _origin_allowed(request):
        return _refuse(403, "Requests from another origin are refused.")
    found = _caller(request, environment_id)
    if isinstance(found, JsonResponse):
        return found
    version = request.headers.get("MCP-Protocol-Version")
    if version and version not in PROTOCOL_VERSIONS:
        return _refuse(400, f"Unsupported MCP-Protocol-Version {version[:40]!r}.")
    if len(request.body) > MAX_BODY_BYTES:
        return _refuse(413, "The request body is too large.")
    try:
        message = json.loads(request.body)
    except ValueError:
        return JsonResponse(_error(None, PARSE_ERROR, "The body is not JSON."), status=400)
    token, environment = found
    messages = message if isinstance(message, list) else [message]
    answers = [answer for item in messages if (answer := _handle(item, token, environment)) is not None]
    if not answers:
        return HttpResponse(status=202)  # notifications and responses only
    return JsonResponse(answers if isinstance(message, list) else answers[0], safe=False)


def _handle(message: Any, token: ApiToken, environment: Environment) -> dict[str, Any] | None:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return _error(None, INVALID_REQUEST, "Not a JSON-RPC 2.0 message.")
    if "method" not in message or "id" not in message:
        return None  # a notification (notifications/initialized, cancelled) or a response: nothing to answer
    message_id, method = message["id"], message["method"]
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    if method == "initialize":
        asked = params.get("protocolVersion")
        return {"jsonrpc": "2.0", "id": message_id, "result": {
            "protocolVersion": asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": f"flomation-{environment.name}", "version": __version__},
            "instructions": f"Tools are the flows deployed to the {environment.name} environment.",
        }}  # fmt: skip
    if method == "ping":
        return {"jsonrpc": "2.0", "id": message_id, "result": {}}
    if method == "tools/list":
        tools = [{"name": t.name, "description": t.description, "inputSchema": t.input_schema}
                 for t in mcp_tools(environment=environment)]  # fmt: skip
        return {"jsonrpc": "2.0", "id": message_id, "result": {"tools": tools}}
    if method == "tools/call":
        name, arguments = params.get("name"), params.get("arguments") or {}
        tool = next((t for t in mcp_tools(environment=environment) if t.name == name), None)
        if tool is None:
            return _error(message_id, INVALID_PARAMS, f"Unknown tool: {str(name)[:100]}")
        if not isinstance(arguments, dict):
            return _error(message_id, INVALID_PARAMS, "Tool arguments must be an object.")
        return {"jsonrpc": "2.0", "id": message_id, "result": _call(tool, arguments, token, environment)}
    return _error(message_id, METHOD_NOT_FOUND, f"Method not found: {str(method)[:100]}")


def _call(
    tool: FlowTool, arguments: dict[str, Any], token: ApiToken, environment: Environment
) -> dict[str, Any]:
    """Runs the tool's flow with the arguments as its inputs and waits for its outputs."""
    try:
        created = execution_run_now(
            workflow=tool.deployment.workflow,
            environment=environment,
            inputs=arguments,
            created_by=token.account,
        )
    except ValidationError as error:
        return tool_result(state="refused", outputs=None, error="; ".join(error.messages))
    except Conflict as error:
        return tool_result(state="refused", outputs=None, error=str(error))
    execution = created.execution
    outcome = execution_wait_finished(execution_id=execution.id, timeout=CALL_TIMEOUT_SECONDS)
    if outcome is None:
        return tool_result(
            state=None, outputs=None, error=f"The flow is still running (execution {execution.id})."
        )
    error = "" if outcome.state == "succeeded" else Execution.objects.filter(id=execution.id).values_list(
        "error", flat=True).first() or ""  # fmt: skip
    return tool_result(state=outcome.state, outputs=outcome.outputs, error=error)
