"""ai/mcp_client against the official MCP SDK's server on loopback: it lists the tools, calls one, reports a
tool's failure, sends the bearer token without ever showing it, and goes through the egress policy."""

from __future__ import annotations

import json

import pytest

from flomation.executor.settings import ExecutorSettings
from flomation.lib.egress import EgressPolicy
from tests.executor.conftest import chain, run, run_node
from tests.executor.conftest import node as flow_node
from tests.support.mcp_sdk import sdk_server

TOKEN = "mcp-token-0123456789"


@pytest.fixture(scope="module")
def server():
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("calculator")

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @mcp.tool()
    def divide(a: float, b: float) -> float:
        """Divide a by b."""
        if b == 0:
            raise ValueError("cannot divide by zero")
        return a / b

    seen: list[dict] = []
    with sdk_server(mcp, seen=seen) as url:
        yield url, seen


def ok(inputs):
    record = run_node("ai/mcp_client", inputs).node_results["n"]
    assert record["status"] == "success", record.get("error")
    return record["outputs"]


def test_it_lists_the_servers_tools_with_their_schemas(server):
    url, _seen = server
    found = ok({"server_url": url, "operation": "list_tools"})
    tools = {tool["name"]: tool for tool in found["tools"]}
    assert set(tools) == {"add", "divide"} and tools["add"]["description"] == "Add two numbers."
    assert tools["add"]["inputSchema"]["required"] == ["a", "b"]
    assert found["server"]["name"] == "calculator"


def test_it_calls_a_tool_with_the_bearer_token_and_hides_the_token(server):
    url, seen = server
    seen.clear()
    flow = chain(
        flow_node("n", "ai/mcp_client", {"server_url": url, "tool_name": "add", "arguments": {"a": 2, "b": 40},
                                         "auth_token": TOKEN}),
    )  # fmt: skip
    result, recorder = run(flow)
    record = result.node_results["n"]
    assert record["status"] == "success", record.get("error")
    assert record["outputs"]["result"] == {"result": 42} and record["outputs"]["content"] == "42"
    posts = [request for request in seen if request["method"] == "POST"]
    assert len(posts) == 3  # initialize, notifications/initialized, tools/call
    assert all(request["headers"]["authorization"] == f"Bearer {TOKEN}" for request in posts)
    assert (
        posts[-1]["headers"]["mcp-protocol-version"] == "2025-06-18"
        and "mcp-session-id" in posts[-1]["headers"]
    )
    assert any(request["method"] == "DELETE" for request in seen)  # the session is ended
    assert TOKEN not in json.dumps(recorder.events, default=str)


def test_a_tool_that_fails_fails_the_node_with_the_servers_words(server):
    url, _seen = server
    record = run_node(
        "ai/mcp_client", {"server_url": url, "tool_name": "divide", "arguments": {"a": 1, "b": 0}}
    )
    assert record.node_results["n"]["status"] == "failed"
    assert record.node_results["n"]["error"] == "the tool divide failed: Error executing tool divide"


def test_the_egress_policy_refuses_a_loopback_server_unless_allowed(server):
    url, _seen = server
    settings = ExecutorSettings(log=lambda level, message, fields: None, egress=EgressPolicy.build())
    record = run_node("ai/mcp_client", {"server_url": url, "operation": "list_tools"}, settings=settings)
    assert record.node_results["n"]["status"] == "failed"
    assert record.node_results["n"]["error"].startswith("egress refused: 127.0.0.1 is a loopback address")


def test_an_unreachable_server_is_named():
    record = run_node("ai/mcp_client", {"server_url": "http://127.0.0.1:9/mcp", "operation": "list_tools"})
    assert record.node_results["n"]["status"] == "failed"
    assert (
        "the MCP server at http://127.0.0.1:9/mcp could not be reached" in record.node_results["n"]["error"]
    )
