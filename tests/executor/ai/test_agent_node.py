"""ai/agent: the tool-calling loop against a loopback model API, with flow nodes and a sub-flow as tools."""

from __future__ import annotations

import json

import pytest

from flomation.executor.providers import StaticSecrets
from tests.executor.conftest import edge, flow, node, outputs_of, run
from tests.support.model_api import anthropic_message, model_api, openai_completion

KEY = "sk-agent-secret-555"


@pytest.fixture
def api():
    with model_api() as server:
        yield server


def agent_flow(api, extra: dict | None = None, *, provider: str = "openai", tools=("add", "shout")) -> dict:
    base = f"{api.url}/v1" if provider == "openai" else api.url
    inputs = {"provider": provider, "base_url": base, "api_key": KEY, "model": "m1", "streaming": False,
              "system_prompt": "Use the tools.", "prompt": "Add 2 and 3, then shout the word five.", **(extra or {})}  # fmt: skip
    nodes = [
        node("t", "trigger/manual"),
        node("agent", "ai/agent", inputs),
        node("after", "string/upper_case", {"value": "${agent.response}"}),
    ]
    edges = [edge("t", "agent"), edge("agent", "after")]
    if "add" in tools:
        nodes.append(node("add", "arithmetic/addition", {}, name="add numbers", description="Adds a and b."))
        edges.append(edge("agent", "add", "tools"))
    if "shout" in tools:
        nodes.append(node("shout", "string/upper_case", {}))
        edges.append(edge("agent", "shout", "tools"))
    return flow(nodes, edges)


def test_the_agent_calls_two_tools_feeds_their_results_back_and_answers(api):
    path = "/v1/chat/completions"
    api.reply(path, openai_completion(tool_calls=[{"id": "c1", "name": "add_numbers", "arguments": {"a": 2, "b": 3}}],
                                      finish="tool_calls", prompt_tokens=50, completion_tokens=10))  # fmt: skip
    api.reply(path, openai_completion(tool_calls=[{"id": "c2", "name": "string_upper_case", "arguments": {"value": "five"}}],
                                      finish="tool_calls", prompt_tokens=70, completion_tokens=8))  # fmt: skip
    api.reply(path, openai_completion("The sum is 5, shouted: FIVE.", prompt_tokens=90, completion_tokens=12))
    result, recorder = run(agent_flow(api))
    assert result.status == "succeeded", result.error
    out = outputs_of(result, "agent")
    assert out["response"] == "The sum is 5, shouted: FIVE."
    assert (out["input_tokens"], out["output_tokens"], out["iterations"], out["tool_calls_count"]) == (
        210,
        30,
        3,
        2,
    )
    assert out["tool_calls"] == [
        {"name": "add_numbers", "arguments": {"a": 2, "b": 3}, "ok": True, "iteration": 1},
        {"name": "string_upper_case", "arguments": {"value": "five"}, "ok": True, "iteration": 2},
    ]
    assert outputs_of(result, "after")["result"] == "THE SUM IS 5, SHOUTED: FIVE."

    first, second, third = (r["json"] for r in api.requests)
    assert first["tools"] == [
        {"type": "function", "function": {"name": "add_numbers", "description": "Adds a and b.", "parameters": {
            "type": "object", "required": ["a", "b"], "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}},
        {"type": "function", "function": {"name": "string_upper_case", "description": "Convert a string to upper case.",
            "parameters": {"type": "object", "required": ["value"], "properties": {"value": {"type": "string", "description": "Input string"}}}}},
    ]  # fmt: skip
    assert first["messages"] == [{"role": "system", "content": "Use the tools."},
                                 {"role": "user", "content": "Add 2 and 3, then shout the word five."}]  # fmt: skip
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": json.dumps({"answer": 5}),
    }
    assert (
        third["messages"][-1]["tool_call_id"] == "c2"
        and '"result": "FIVE"' in third["messages"][-1]["content"]
    )

    # The run shows the trail: each model call is a step of the agent, each tool call a step of its node.
    trail = [(e["id"], e["status"]) for e in recorder.events if e["id"] in ("agent", "add", "shout")]
    assert trail == [("agent", "running"), ("agent", "model_call"), ("add", "running"), ("add", "success"),
                     ("agent", "model_call"), ("shout", "running"), ("shout", "success"), ("agent", "model_call"),
                     ("agent", "success")]  # fmt: skip
    calls = [e for e in recorder.events if e["status"] == "model_call"]
    assert calls[0]["outputs"]["tool_calls"] == [
        {"id": "c1", "name": "add_numbers", "arguments": {"a": 2, "b": 3}}
    ]
    assert next(e for e in recorder.events if e["id"] == "add" and e["status"] == "success")["inputs"] == {
        "a": 2,
        "b": 3,
    }
    assert KEY not in json.dumps(recorder.events)


def test_the_tools_are_not_run_as_the_flows_next_steps(api):
    api.reply("/v1/chat/completions", openai_completion("No tools needed."))
    result, recorder = run(agent_flow(api))
    assert result.status == "succeeded"
    assert {e["id"] for e in recorder.events} == {"t", "agent", "after"}


def test_a_failing_tool_is_told_to_the_model_and_the_agent_goes_on(api):
    path = "/v1/chat/completions"
    api.reply(
        path,
        openai_completion(
            tool_calls=[{"id": "c1", "name": "add_numbers", "arguments": {"a": "two", "b": 3}}]
        ),
    )
    api.reply(path, openai_completion(tool_calls=[{"id": "c2", "name": "no_such_tool", "arguments": {}}]))
    api.reply(path, openai_completion("I could not add them."))
    result, _ = run(agent_flow(api))
    assert outputs_of(result, "agent")["response"] == "I could not add them."
    second, third = api.requests[1]["json"], api.requests[2]["json"]
    assert second["messages"][-1]["content"].startswith("the tool failed: input 'a'")
    assert third["messages"][-1]["content"] == "there is no tool named 'no_such_tool'"
    assert [c["ok"] for c in outputs_of(result, "agent")["tool_calls"]] == [False, False]


def test_the_agent_stops_at_its_iteration_bound_without_an_answer(api):
    for n in range(3):
        api.reply("/v1/chat/completions", openai_completion(tool_calls=[{"id": f"c{n}", "name": "string_upper_case",
                                                                          "arguments": {"value": "again"}}]))  # fmt: skip
    result, _ = run(agent_flow(api, {"max_iterations": 3}))
    out = outputs_of(result, "agent")
    assert (out["success"], out["stop_reason"], out["iterations"]) == (False, "max_iterations", 3)
    assert out["error"] == "stopped after 3 model calls without a final answer"
    assert len(api.requests) == 3


def test_a_sub_flow_is_a_tool_whose_schema_is_its_begin_nodes_inputs(api):
    api.reply(
        "/v1/messages",
        anthropic_message(
            tool_uses=[{"id": "tu1", "name": "greet", "arguments": {"who": "Ada"}}], stop="tool_use"
        ),
    )
    api.reply("/v1/messages", anthropic_message("Greeted."))
    shape = agent_flow(api, provider="anthropic", tools=())
    shape["nodes"] += [node("greet", "subflow/invoke", {"sub_flow_name": "greeter"}, name="greet"),
                       node("begin", "subflow/begin", {"name": "greeter", "who": ""}),
                       node("hello", "string/concatenate", {"a": "Hello, ", "b": "${begin.who}"}),
                       node("end", "subflow/end", {"return_value": "${hello.result}"})]  # fmt: skip
    shape["edges"] += [edge("agent", "greet", "tools"), edge("begin", "hello"), edge("hello", "end")]
    result, _ = run(shape)
    assert result.status == "succeeded", result.error
    first, second = (r["json"] for r in api.requests)
    assert first["tools"] == [{"name": "greet", "description": "Run the sub-flow whose Begin node has this name; extra inputs are passed to it.",
                               "input_schema": {"type": "object", "properties": {"who": {"type": "string"}}, "required": ["who"]}}]  # fmt: skip
    tool_result = second["messages"][-1]["content"][0]
    assert tool_result["tool_use_id"] == "tu1" and "Hello, Ada" in tool_result["content"]


def test_window_memory_carries_the_conversation_to_the_next_run_under_the_same_key(api):
    secrets = StaticSecrets()
    api.reply("/v1/chat/completions", openai_completion("Nice to meet you, Ada."))
    run(agent_flow(api, {"prompt": "I am Ada.", "memory_key": "chat-42"}, tools=()), secrets=secrets)
    api.reply("/v1/chat/completions", openai_completion("You are Ada."))
    result, _ = run(
        agent_flow(api, {"prompt": "Who am I?", "memory_key": "chat-42"}, tools=()), secrets=secrets
    )
    assert outputs_of(result, "agent")["response"] == "You are Ada."
    assert api.requests[1]["json"]["messages"] == [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "I am Ada."},
        {"role": "assistant", "content": "Nice to meet you, Ada."},
        {"role": "user", "content": "Who am I?"},
    ]
    assert secrets.get_memory("chat-42")["messages"][-1] == {"role": "assistant", "content": "You are Ada."}
    assert secrets.get_memory("other") is None


def test_summary_memory_folds_older_turns_into_a_summary_the_model_writes(api):
    secrets = StaticSecrets()
    secrets.save_memory("s1", {"messages": [{"role": "user", "content": "I am Ada."}, {"role": "assistant", "content": "Hi Ada."}],
                               "summary": ""})  # fmt: skip
    api.reply("/v1/chat/completions", openai_completion("Paris is lovely."))
    api.reply("/v1/chat/completions", openai_completion("Ada introduced herself and asked about Paris."))
    result, _ = run(agent_flow(api, {"prompt": "Tell me about Paris.", "memory_key": "s1", "memory_mode": "summary",
                                     "memory_window": 2}, tools=()), secrets=secrets)  # fmt: skip
    out = outputs_of(result, "agent")
    assert out["success"] is True and out["input_tokens"] == 22  # the summary call counts too
    ask = api.requests[1]["json"]["messages"][0]["content"]
    assert "user: I am Ada." in ask and "assistant: Hi Ada." in ask
    kept = secrets.get_memory("s1")
    assert kept == {"messages": [{"role": "user", "content": "Tell me about Paris."}, {"role": "assistant", "content": "Paris is lovely."}],
                    "summary": "Ada introduced herself and asked about Paris."}  # fmt: skip
    api.reply("/v1/chat/completions", openai_completion("ok"))
    run(
        agent_flow(
            api,
            {"prompt": "Thanks", "memory_key": "s1", "memory_mode": "summary", "memory_window": 2},
            tools=(),
        ),
        secrets=secrets,
    )
    assert api.requests[2]["json"]["messages"][0]["content"].endswith(
        "Ada introduced herself and asked about Paris."
    )


def test_the_agent_stops_when_its_time_is_up_even_with_calls_left(api):
    call = [{"id": "c1", "name": "common_sleep", "arguments": {"duration": 1}}]
    api.reply("/v1/chat/completions", openai_completion(tool_calls=call))
    shape = agent_flow(api, {"max_seconds": 0.5, "max_iterations": 5}, tools=())
    shape["nodes"].append(node("nap", "common/sleep", {"unit": "seconds"}))
    shape["edges"].append(edge("agent", "nap", "tools"))
    result, _ = run(shape)
    out = outputs_of(result, "agent")
    assert (out["success"], out["stop_reason"], out["tool_calls_count"]) == (False, "time_limit", 1)
    assert len(api.requests) == 1


def test_a_prompt_node_with_tools_wired_to_it_calls_them_as_flomations_do(api):
    api.reply(
        "/v1/messages",
        anthropic_message(
            tool_uses=[{"id": "tu1", "name": "string_upper_case", "arguments": {"value": "quiet"}}],
            stop="tool_use",
        ),
    )
    api.reply("/v1/messages", anthropic_message("QUIET it is."))
    inputs = {"base_url": api.url, "api_key": KEY, "prompt": "Shout quiet.", "streaming": False}
    result, _ = run(
        flow(
            [
                node("t", "trigger/manual"),
                node("claude", "ai/anthropic", inputs),
                node("shout", "string/upper_case", {}),
            ],
            [edge("t", "claude"), edge("claude", "shout", "tools")],
        )
    )
    out = outputs_of(result, "claude")
    assert (out["response"], out["tool_calls_count"], out["success"]) == ("QUIET it is.", 1, True)
    assert api.requests[0]["json"]["tools"][0]["name"] == "string_upper_case"
    assert outputs_of(result, "shout")["result"] == "QUIET"


def test_the_memory_window_keeps_whole_exchanges_even_when_the_last_one_is_longer_than_the_window():
    from flomation.executor.nodes.ai.memory import memory_trim

    def ask(role, text, **more):
        return {"role": role, "content": text, **more}

    old = [ask("user", "one"), ask("assistant", "1")]
    long = [ask("user", "two"), ask("assistant", "", tool_calls=[{"id": "a", "name": "t", "arguments": {}}]),
            ask("tool", "r", tool_call_id="a"), ask("assistant", "2")]  # fmt: skip
    never = lambda summary, older: pytest.fail("window mode does not summarise")  # noqa: E731
    assert memory_trim({"messages": old + long, "summary": ""}, mode="window", window=3, summarise=never) == {
        "messages": long, "summary": ""}  # fmt: skip
    assert memory_trim({"messages": old + long, "summary": ""}, mode="window", window=4, summarise=never) == {
        "messages": long, "summary": ""}  # fmt: skip
    kept = memory_trim({"messages": old + long, "summary": "s0"}, mode="summary", window=2,
                       summarise=lambda summary, older: f"{summary}+{len(older)}")  # fmt: skip
    assert kept == {"messages": long, "summary": "s0+2"}


def test_each_streamed_model_call_of_the_agent_is_shown_on_its_own(api):
    chunk = {"object": "chat.completion.chunk", "model": "m1"}
    call = {
        "index": 0,
        "id": "c1",
        "type": "function",
        "function": {"name": "string_upper_case", "arguments": '{"value": "x"}'},
    }
    api.reply("/v1/chat/completions", [("", {**chunk, "choices": [{"index": 0, "delta": {"content": "Checking."}}]}),
                                       ("", {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}),
                                       ("", "[DONE]")])  # fmt: skip
    api.reply("/v1/chat/completions", [("", {**chunk, "choices": [{"index": 0, "delta": {"content": "Done."}}]}),
                                       ("", "[DONE]")])  # fmt: skip
    result, recorder = run(agent_flow(api, {"streaming": True}, tools=("shout",)))
    assert outputs_of(result, "agent")["response"] == "Done."
    shown = [e["outputs"]["response"] for e in recorder.events if e["status"] == "streaming"]
    assert shown == ["Checking.", "Done."]
