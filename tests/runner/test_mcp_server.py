"""An environment's deployed flows that opt in (a trigger/mcp node) are tools of its MCP server: the official
SDK's client lists them with the manual trigger's input schema and calls one, which runs the flow on a real
runner and answers with its outputs; a token of another organisation reaches nothing."""

from __future__ import annotations

import pytest
import requests

from flomation.core import models as m
from flomation.core.services.deployments import workflow_deploy
from flomation.core.services.queues import queue_registration_code, queue_shared
from flomation.core.services.tokens import api_token_create
from tests.core import factories as cf
from tests.runner import factories as f
from tests.support.mcp_sdk import sdk_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCHEMA = [{"name": "a", "type": "integer", "required": True, "description": "First number"},
          {"name": "b", "type": "integer", "default": 10}]  # fmt: skip


def adder(tool: bool) -> dict:
    nodes = [
        f.node("t1", "trigger/manual", 1, [{"name": "input_schema", "type": "object", "value": SCHEMA}]),
        f.node("sum", "arithmetic/addition", 2, [{"name": "a", "type": "integer", "value": "${t1.a}"},
                                                  {"name": "b", "type": "integer", "value": "${t1.b}"}]),
        f.node("o1", "output/set", 3, [{"name": "name", "type": "string", "value": "total"},
                                       {"name": "value", "type": "string", "value": "${sum.answer}"}]),
    ]  # fmt: skip
    flow = f.chain(*nodes)
    if tool:
        flow["nodes"].append(f.node("mcp", "trigger/mcp", 1, [
            {"name": "tool_name", "type": "string", "value": "add numbers"},
            {"name": "description", "type": "text", "value": "Adds a and b."}]))  # fmt: skip
    return flow


@pytest.fixture
def served(live_api, start_runner):
    organisation = cf.OrganisationFactory(name="Acme", accept_shared_runners=True)
    owner = cf.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    production = organisation.environments.get(name="production")
    for tool in (True, False):
        workflow = f.make_workflow(organisation, adder(tool))
        workflow_deploy(workflow=workflow, environment=production, revision_number=1, deployed_by=owner)
    start_runner(queue_registration_code(queue=queue_shared()))
    token = api_token_create(account=owner, organisation=organisation, name="agent")[1]
    return f"{live_api}/api/v1/mcp/{production.id}", token, organisation


def test_the_sdk_client_lists_the_opted_in_flow_and_calls_it(served):
    url, token, _organisation = served

    async def work(session):
        tools = await session.list_tools()
        called = await session.call_tool("add_numbers", {"a": 2, "b": 3})
        defaulted = await session.call_tool("add_numbers", {"a": 1})
        refused = await session.call_tool("add_numbers", {"b": 1})
        return tools, called, defaulted, refused

    tools, called, defaulted, refused = sdk_client(url, token, work)
    (tool,) = tools.tools
    assert tool.name == "add_numbers" and tool.description == "Adds a and b."
    assert tool.input_schema["properties"]["a"] == {"type": "integer", "description": "First number"}
    assert tool.input_schema["properties"]["b"] == {"type": "integer", "default": 10}
    assert tool.input_schema["required"] == ["a"]
    assert called.is_error is False and called.structured_content == {"total": 5}
    assert defaulted.structured_content == {"total": 11}
    assert refused.is_error is True and refused.content[0].text.startswith("a: ")


def test_no_token_or_another_organisations_token_reaches_nothing(served):
    url, _token, _organisation = served
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    assert requests.post(url, json=body, headers=headers, timeout=10).status_code == 401
    other = cf.OrganisationFactory(name="Elsewhere")
    outsider = cf.MembershipFactory(organisation=other, role=m.MemberRole.OWNER).account
    theirs = api_token_create(account=outsider, organisation=other, name="x")[1]
    answer = requests.post(
        url, json=body, headers={**headers, "Authorization": f"Bearer {theirs}"}, timeout=10
    )
    assert answer.status_code == 404 and "add_numbers" not in answer.text
    assert requests.get(url, headers={"Authorization": f"Bearer {theirs}"}, timeout=10).status_code == 405
