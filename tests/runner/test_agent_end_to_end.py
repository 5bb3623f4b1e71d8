"""An AI agent run by a real runner: a stored openai connection, two flow nodes as tools, memory kept by the
platform under a session key, token usage summed on the execution and per organisation per day."""

from __future__ import annotations

import json

import pytest

from flomation.core.models import AgentMemory, AiUsageDay, Environment, Execution, ExecutionStep
from flomation.core.selectors.ai import ai_usage_by_day
from flomation.core.services.connections import connection_create
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.executor.conftest import edge, flow, node
from tests.runner import factories as f
from tests.runner.conftest import wait_until
from tests.support.model_api import model_api, openai_completion

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

KEY = "sk-runner-agent-secret-31"
CHAT = "/v1/chat/completions"


def agent_flow(prompt: str) -> dict:
    agent_inputs = {"connection": "llm", "system_prompt": "Use the tools.", "prompt": prompt,
                    "memory_key": "customer-7", "streaming": True}  # fmt: skip
    return flow(
        [
            node("t", "trigger/manual"),
            node("agent", "ai/agent", agent_inputs),
            node("add", "arithmetic/addition", {}),
            node("shout", "string/upper_case", {}),
            node("out", "output/set", {"name": "answer", "value": "${agent.response}"}),
        ],
        [
            edge("t", "agent"),
            edge("agent", "add", "tools"),
            edge("agent", "shout", "tools"),
            edge("agent", "out"),
        ],
    )


def finished(execution) -> Execution:
    wait_until(lambda: Execution.objects.get(id=execution.id).state in ("succeeded", "failed"), timeout=40)
    return Execution.objects.get(id=execution.id)


def stream_of(chunks: list[str], usage: tuple[int, int]) -> list:
    base = {"object": "chat.completion.chunk", "model": "gpt-test"}
    events = [("", {**base, "choices": [{"index": 0, "delta": {"content": c}}]}) for c in chunks]
    events.append(("", {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    events.append(
        ("", {**base, "choices": [], "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1]}})
    )
    return [*events, ("", "[DONE]")]


def test_an_agent_uses_two_tools_remembers_the_session_and_counts_its_tokens(start_runner):
    organisation = f.make_organisation()
    organisation.egress_allow = ["127.0.0.0/8"]
    organisation.save(update_fields=["egress_allow"])
    production = Environment.objects.create(organisation=organisation, name="production")
    with model_api() as api:
        connection_create(organisation=organisation, name="llm", type="openai", environment_id=production.id,
                          fields={"base_url": f"{api.url}/v1", "api_key": KEY, "model": "gpt-test"})  # fmt: skip
        calls = [{"id": "c1", "name": "arithmetic_addition", "arguments": {"a": 2, "b": 3}}]
        api.reply(CHAT, openai_completion(tool_calls=calls, prompt_tokens=40, completion_tokens=9))
        calls = [{"id": "c2", "name": "string_upper_case", "arguments": {"value": "five"}}]
        api.reply(CHAT, openai_completion(tool_calls=calls, prompt_tokens=60, completion_tokens=7))
        api.reply(CHAT, stream_of(["It is ", "FIVE."], (80, 5)))
        start_runner(queue_registration_code(queue=queue_shared()))
        first = finished(
            f.run(
                f.make_workflow(organisation, agent_flow("Add 2 and 3 and shout it.")), environment=production
            )
        )
        assert first.state == "succeeded", first.error
        assert first.outputs["answer"] == "It is FIVE."
        assert (first.input_tokens, first.output_tokens) == (180, 21)

        api.reply(
            CHAT, openai_completion("You asked me to add 2 and 3.", prompt_tokens=100, completion_tokens=10)
        )
        second = finished(
            f.run(f.make_workflow(organisation, agent_flow("What did I ask before?")), environment=production)
        )
        assert second.state == "succeeded", second.error

    sent = [r["json"] for r in api.requests]
    assert [m["role"] for m in sent[3]["messages"]] == ["system", "user", "assistant", "tool", "assistant", "tool",
                                                         "assistant", "user"]  # fmt: skip
    assert sent[3]["messages"][-2] == {"role": "assistant", "content": "It is FIVE."}
    assert sent[0]["tools"][0]["function"]["name"] == "arithmetic_addition"
    assert all(r["headers"]["Authorization"] == f"Bearer {KEY}" for r in api.requests)

    steps = list(
        ExecutionStep.objects.filter(execution=first).order_by("sequence").values_list("node_id", "status")
    )
    trail = [s for s in steps if s[0] in ("agent", "add", "shout") and s[1] != "streaming"]
    assert trail == [("agent", "running"), ("agent", "model_call"), ("add", "running"), ("add", "success"),
                     ("agent", "model_call"), ("shout", "running"), ("shout", "success"), ("agent", "model_call"),
                     ("agent", "success")]  # fmt: skip
    assert ("agent", "streaming") in steps
    tool_step = ExecutionStep.objects.get(execution=first, node_id="add", status="success")
    assert (tool_step.inputs, tool_step.outputs) == ({"a": 2, "b": 3}, {"answer": 5})

    memory = AgentMemory.objects.get(organisation=organisation, environment=production, key="customer-7")
    assert memory.messages[-1] == {"role": "assistant", "content": "You asked me to add 2 and 3."}
    today = AiUsageDay.objects.get(organisation=organisation)
    assert (today.input_tokens, today.output_tokens, today.executions) == (280, 31, 2)
    assert ai_usage_by_day(organisation_id=organisation.id)[0]["input_tokens"] == 280

    recorded = json.dumps([list(ExecutionStep.objects.filter(execution__organisation=organisation).values()),
                           list(Execution.objects.filter(organisation=organisation).values("outputs", "error"))],
                          default=str)  # fmt: skip
    assert KEY not in recorded
