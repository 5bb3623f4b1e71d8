"""ai/mcp_client: lists or calls the tools of an external Model Context Protocol server (Streamable HTTP).

The client speaks the documented JSON-RPC protocol through the run's HTTP session, so every connection (and
redirect) passes the egress policy; the official SDK's client opens its own HTTP connections, which the
policy could not pin. Answers come as JSON or as a server-sent event stream; both are read.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from flomation.executor.coerce import parse_json_text
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.engine.context import NodeContext

PROTOCOL_VERSION = "2025-06-18"
MAX_PAGES = 20
MAX_ANSWER_BYTES = 10 << 20


class _Session:
    """One MCP session over the run's HTTP session: initialise, then requests, then close."""

    def __init__(self, ctx: NodeContext, url: str, token: str, timeout: float) -> None:
        from flomation.executor.nodes.web import _session

        self.http = _session(ctx)
        self.url, self.timeout, self.deadline = url, timeout, time.monotonic() + timeout
        self.headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.next_id = 0

    def _post(self, message: dict[str, Any]) -> Any:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise NodeError(f"the MCP server did not answer within {self.timeout:g} s")
        return self.http.post(
            self.url, data=json.dumps(message), headers=self.headers, timeout=remaining, stream=True
        )

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        with contextlib.closing(self._post(message)) as response:
            if response.status_code in (401, 403):
                raise NodeError(f"the MCP server refused the credentials ({response.status_code})")
            if response.status_code != 200:
                raise NodeError(f"the MCP server answered {method} with HTTP {response.status_code}")
            if "Mcp-Session-Id" in response.headers:
                self.headers["Mcp-Session-Id"] = response.headers["Mcp-Session-Id"]
            answer = _answer(response, self.next_id)
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            raise NodeError(f"the MCP server refused {method}: {str(error.get('message') or error)[:300]}")
        result = answer.get("result")
        return result if isinstance(result, dict) else {}

    def notify(self, method: str) -> None:
        with contextlib.closing(self._post({"jsonrpc": "2.0", "method": method})) as response:
            if response.status_code not in (200, 202, 204):
                raise NodeError(f"the MCP server answered {method} with HTTP {response.status_code}")

    def open(self) -> dict[str, Any]:
        from flomation import __version__

        result = self.request("initialize", {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "flomation", "version": __version__},
        })  # fmt: skip
        self.headers["MCP-Protocol-Version"] = str(result.get("protocolVersion") or PROTOCOL_VERSION)
        self.notify("notifications/initialized")
        return result

    def close(self) -> None:
        """Ends the server's session, when it made one (best effort: the answer does not matter)."""
        if "Mcp-Session-Id" in self.headers:
            with contextlib.suppress(Exception):
                self.http.delete(self.url, headers=self.headers, timeout=5).close()


def _answer(response: Any, message_id: int) -> dict[str, Any]:
    """The JSON-RPC response with `message_id`, from a JSON body or from the event stream."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        body = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
        if len(body) > MAX_ANSWER_BYTES:
            raise NodeError("the MCP server's answer is too large")
        try:
            parsed = json.loads(body)
        except ValueError:
            raise NodeError("the MCP server's answer is not JSON") from None
        found = [parsed] if isinstance(parsed, dict) else parsed if isinstance(parsed, list) else []
        for item in found:
            if isinstance(item, dict) and item.get("id") == message_id:
                return item
        raise NodeError("the MCP server's answer has no response to the request")
    if kind != "text/event-stream":
        raise NodeError(f"the MCP server answered with {kind or 'no content type'}, not JSON or events")
    data: list[str] = []
    size = 0
    for line in response.iter_lines(decode_unicode=True):
        size += len(line or "")
        if size > MAX_ANSWER_BYTES:
            raise NodeError("the MCP server's answer is too large")
        if line is None or line == "":
            event, data = "\n".join(data), []
            with contextlib.suppress(ValueError):
                parsed = json.loads(event) if event else None
                if isinstance(parsed, dict) and parsed.get("id") == message_id and "method" not in parsed:
                    return parsed
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    raise NodeError("the MCP server's event stream ended without a response")


def _text(content: Any) -> str:
    parts = [
        item.get("text", "")
        for item in content or []
        if isinstance(item, dict) and item.get("type") == "text"
    ]
    return "\n".join(str(part) for part in parts)


@node(
    "ai/mcp_client",
    name="MCP Client",
    category="ai",
    description="List or call the tools of an external MCP server (Streamable HTTP).",
    inputs=(
        Input(
            "server_url",
            "string",
            required=True,
            description="The server's MCP endpoint, e.g. https://host/mcp.",
        ),
        Input(
            "auth_token", "secret", description="Sent as 'Authorization: Bearer ...' (use ${secrets.NAME})."
        ),
        Input("operation", "string", default="call_tool", options=("call_tool", "list_tools")),
        Input("tool_name", "string", description="The tool to call."),
        Input("arguments", "object", description="The tool's arguments, an object."),
        Input(
            "timeout_seconds", "number", default=60, description="Time for the whole exchange (at most 600)."
        ),
    ),
    outputs=(
        "tools:array",
        "result:object",
        "content:string",
        "server:object",
        "success:boolean",
    ),
)
def mcp_client(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.egress import EgressDenied

    url = str(inputs.get("server_url") or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        raise NodeError("server_url must be an http:// or https:// URL")
    token = str(inputs.get("auth_token") or "")
    if token:
        ctx.mask(token)
    operation = str(inputs.get("operation") or "call_tool")
    arguments = parse_json_text(inputs.get("arguments")) or {}
    if not isinstance(arguments, dict):
        raise NodeError("arguments must be an object")
    if operation == "call_tool" and not inputs.get("tool_name"):
        raise NodeError("tool_name is required to call a tool")
    timeout = max(1.0, min(float(inputs.get("timeout_seconds") or 60), 600.0))

    def work() -> dict[str, Any]:
        session = _Session(ctx, url, token, timeout)
        try:
            server = session.open()
            if operation == "list_tools":
                tools, cursor = [], None
                for _ in range(MAX_PAGES):
                    page = session.request("tools/list", {"cursor": cursor} if cursor else {})
                    tools += page.get("tools") or []
                    cursor = page.get("nextCursor")
                    if not cursor:
                        break
                return {"tools": tools, "result": {"tools": tools}, "content": "",
                        "server": server.get("serverInfo") or {}, "success": True}  # fmt: skip
            result = session.request("tools/call", {"name": str(inputs["tool_name"]), "arguments": arguments})
            if result.get("isError"):
                # A failed node, so the flow's error handling (and an agent) sees the tool's own words.
                raise NodeError(
                    f"the tool {inputs['tool_name']!s:.100} failed: {_text(result.get('content'))[:500]}"
                )
            structured = result.get("structuredContent")
            return {"tools": [], "result": structured if isinstance(structured, dict) else result,
                    "content": _text(result.get("content")),
                    "server": server.get("serverInfo") or {}, "success": True}  # fmt: skip
        finally:
            session.close()

    try:
        return ctx.call_blocking(work)
    except EgressDenied as error:
        ctx.egress_refused(error)
        raise NodeError(str(error)) from None
    except OSError as error:
        raise NodeError(
            f"the MCP server at {url[:200]} could not be reached: {type(error).__name__}"
        ) from None
