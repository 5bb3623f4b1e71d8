"""The model client against a loopback server implementing OpenAI's and Anthropic's documented endpoints."""

from __future__ import annotations

import pytest

from flomation.lib import connections
from flomation.lib.connections import ConnectionFailed
from flomation.lib.egress import EgressPolicy
from flomation.lib.llm import ModelError, chat, embed
from flomation.lib.llm.base import RATE_LIMIT_RETRIES, RETRY_AFTER_CEILING
from tests.support.model_api import anthropic_message, model_api, openai_completion

LOOPBACK = EgressPolicy.build(allow=["127.0.0.0/8"])
KEY = "sk-test-secret-4242"


@pytest.fixture
def api():
    with model_api() as server:
        yield server


def openai_fields(api, **more):
    return {"base_url": f"{api.url}/v1", "api_key": KEY, "model": "gpt-test", **more}


def anthropic_fields(api):
    return {"base_url": api.url, "api_key": KEY, "model": "claude-test"}


def test_embed_sends_the_documented_request_and_returns_vectors_in_input_order(api):
    api.reply("/v1/embeddings", {"object": "list", "model": "emb", "data": [
        {"object": "embedding", "index": 1, "embedding": [0.5, 0.25]},
        {"object": "embedding", "index": 0, "embedding": [1, 0]},
    ]})  # fmt: skip
    vectors = embed(["first", "second"], fields=openai_fields(api, embedding_model="emb"), policy=LOOPBACK)
    assert vectors == [[1.0, 0.0], [0.5, 0.25]]
    [request] = api.requests
    assert request["method"] == "POST" and request["path"] == "/v1/embeddings"
    assert request["json"] == {"model": "emb", "input": ["first", "second"]}
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"


def test_an_embedding_count_that_does_not_match_the_texts_is_an_error(api):
    api.reply("/v1/embeddings", {"data": [{"index": 0, "embedding": [1.0]}]})
    with pytest.raises(ModelError, match="1 embeddings for 2 texts"):
        embed(["a", "b"], fields=openai_fields(api), model="emb", dimensions=8, policy=LOOPBACK)
    assert api.requests[0]["json"] == {"model": "emb", "input": ["a", "b"], "dimensions": 8}


def test_openai_chat_sends_system_history_tools_and_schema_and_reads_tool_calls(api):
    api.reply("/v1/chat/completions", openai_completion(
        tool_calls=[{"id": "call_1", "name": "lookup", "arguments": {"q": "x"}}], finish="tool_calls"))  # fmt: skip
    tool = {
        "name": "lookup",
        "description": "Look up",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    }
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    result = chat(
        provider="openai",
        fields=openai_fields(api, organization="org-9"),
        system="Be brief.",
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "find x"},
        ],
        temperature=0.2,
        max_tokens=50,
        tools=[tool],
        json_schema=schema,
        policy=LOOPBACK,
    )
    [request] = api.requests
    assert request["headers"]["OpenAI-Organization"] == "org-9"
    assert request["json"] == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "find x"},
        ],
        "max_tokens": 50,
        "temperature": 0.2,
        "tools": [
            {
                "type": "function",
                "function": {"name": "lookup", "description": "Look up", "parameters": tool["parameters"]},
            }
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}},
    }
    assert [c.to_dict() for c in result.tool_calls] == [
        {"id": "call_1", "name": "lookup", "arguments": {"q": "x"}}
    ]
    assert (result.stop_reason, result.input_tokens, result.output_tokens) == ("tool_calls", 11, 7)


def test_a_tool_result_turn_goes_back_to_openai_as_a_tool_message(api):
    api.reply("/v1/chat/completions", openai_completion("done"))
    history = [
        {"role": "user", "content": "find x"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call_1", "name": "lookup", "arguments": {"q": "x"}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "lookup", "content": "42"},
    ]
    assert (
        chat(provider="openai", fields=openai_fields(api), messages=history, policy=LOOPBACK).text == "done"
    )
    assert api.requests[0]["json"]["messages"] == [
        {"role": "user", "content": "find x"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]  # fmt: skip


def test_openai_streaming_passes_each_piece_on_and_assembles_text_tool_calls_and_usage(api):
    chunk = {"id": "c", "object": "chat.completion.chunk", "model": "gpt-test"}
    api.reply("/v1/chat/completions", [
        ("", {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}),
        ("", {**chunk, "choices": [{"index": 0, "delta": {"content": "lo"}}]}),
        ("", {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_7", "type": "function", "function": {"name": "add", "arguments": '{"a":'}}]}}]}),
        ("", {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": " 2}"}}]}}]}),
        ("", {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        ("", {**chunk, "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}}),
        ("", "[DONE]"),
    ])  # fmt: skip
    pieces: list[str] = []
    result = chat(provider="openai", fields=openai_fields(api), messages=[{"role": "user", "content": "hi"}],
                  on_token=pieces.append, policy=LOOPBACK)  # fmt: skip
    assert pieces == ["Hel", "lo"] and result.text == "Hello"
    assert [c.to_dict() for c in result.tool_calls] == [
        {"id": "call_7", "name": "add", "arguments": {"a": 2}}
    ]
    assert (result.stop_reason, result.input_tokens, result.output_tokens) == ("tool_calls", 9, 4)
    body = api.requests[0]["json"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert api.requests[0]["headers"]["Accept"] == "text/event-stream"


def test_a_429_waits_the_retry_after_the_server_asks_and_then_succeeds(api):
    api.reply(
        "/v1/chat/completions", {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "2"}
    )
    api.reply(
        "/v1/chat/completions",
        {"error": {"message": "slow down"}},
        status=429,
        headers={"Retry-After": "9999"},
    )
    api.reply("/v1/chat/completions", openai_completion("ok"))
    waits: list[float] = []
    result = chat(provider="openai", fields=openai_fields(api), messages=[{"role": "user", "content": "hi"}],
                  policy=LOOPBACK, sleep=waits.append)  # fmt: skip
    assert result.text == "ok"
    assert waits == [2.0, RETRY_AFTER_CEILING]
    assert len(api.requests) == 3


def test_a_429_that_never_ends_gives_up_after_the_bounded_retries(api):
    for _ in range(RATE_LIMIT_RETRIES + 1):
        api.reply(
            "/v1/chat/completions",
            {"error": {"message": "slow down"}},
            status=429,
            headers={"Retry-After": "1"},
        )
    waits: list[float] = []
    with pytest.raises(ModelError, match="429") as caught:
        chat(provider="openai", fields=openai_fields(api), messages=[{"role": "user", "content": "hi"}],
             policy=LOOPBACK, sleep=waits.append)  # fmt: skip
    assert len(waits) == RATE_LIMIT_RETRIES and len(api.requests) == RATE_LIMIT_RETRIES + 1
    assert "slow down" in str(caught.value)


def test_malformed_json_is_an_error_that_says_so(api):
    api.reply("/v1/chat/completions", b'{"choices": [')
    with pytest.raises(ModelError, match="not JSON"):
        chat(
            provider="openai",
            fields=openai_fields(api),
            messages=[{"role": "user", "content": "hi"}],
            policy=LOOPBACK,
        )


def test_a_rejected_key_names_the_status_and_never_echoes_the_key(api):
    api.reply(
        "/v1/chat/completions", {"error": {"message": f"Incorrect API key provided: {KEY}"}}, status=401
    )
    with pytest.raises(ModelError, match="401 \\(check the API key\\)") as caught:
        chat(
            provider="openai",
            fields=openai_fields(api),
            messages=[{"role": "user", "content": "hi"}],
            policy=LOOPBACK,
        )
    assert KEY not in str(caught.value)


def test_azure_uses_the_deployment_path_the_api_version_and_an_api_key_header(api):
    api.reply("/openai/deployments/my-gpt/chat/completions", openai_completion("azure"))
    fields = {"base_url": api.url, "api_key": KEY, "model": "my-gpt", "api_version": "2024-10-21"}
    assert (
        chat(
            provider="openai", fields=fields, messages=[{"role": "user", "content": "hi"}], policy=LOOPBACK
        ).text
        == "azure"
    )
    [request] = api.requests
    assert request["path"] == "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21"
    assert request["headers"]["api-key"] == KEY and "Authorization" not in request["headers"]


def test_anthropic_chat_sends_the_documented_messages_request(api):
    api.reply("/v1/messages", anthropic_message("Paris"))
    schema = {"type": "object"}
    tool = {"name": "lookup", "description": "Look up", "parameters": {"type": "object", "properties": {}}}
    history = [
        {"role": "user", "content": "find x"},
        {
            "role": "assistant",
            "content": "looking",
            "tool_calls": [{"id": "tu_1", "name": "lookup", "arguments": {"q": "x"}}],
        },
        {"role": "tool", "tool_call_id": "tu_1", "name": "lookup", "content": "42"},
    ]
    result = chat(provider="anthropic", fields=anthropic_fields(api), system="Be brief.", messages=history,
                  max_tokens=100, temperature=0.5, tools=[tool], json_schema=schema, policy=LOOPBACK)  # fmt: skip
    assert (result.text, result.model, result.input_tokens, result.output_tokens, result.stop_reason) == (
        "Paris", "claude-test", 13, 5, "end_turn")  # fmt: skip
    [request] = api.requests
    assert request["headers"]["x-api-key"] == KEY and request["headers"]["anthropic-version"] == "2023-06-01"
    assert request["json"] == {
        "model": "claude-test",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "find x"},
            {"role": "assistant", "content": [{"type": "text", "text": "looking"},
                                              {"type": "tool_use", "id": "tu_1", "name": "lookup", "input": {"q": "x"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "42"}]},
        ],
        "system": "Be brief.\n\nReply with only one JSON value (no prose, no code fence) that validates against "
                  'this JSON schema:\n{"type": "object"}',
        "temperature": 0.5,
        "tools": [{"name": "lookup", "description": "Look up", "input_schema": {"type": "object", "properties": {}}}],
    }  # fmt: skip


def test_anthropic_streaming_assembles_text_and_a_tool_use_from_its_events(api):
    api.reply("/v1/messages", [
        ("message_start", {"type": "message_start", "message": {"model": "claude-test", "usage": {"input_tokens": 21, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "check."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "tu_9", "name": "add", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"a": 1,'}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ' "b": 2}'}}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 17}}),
        ("message_stop", {"type": "message_stop"}),
    ])  # fmt: skip
    pieces: list[str] = []
    result = chat(provider="anthropic", fields=anthropic_fields(api), messages=[{"role": "user", "content": "add"}],
                  on_token=pieces.append, policy=LOOPBACK)  # fmt: skip
    assert pieces == ["Let me ", "check."]
    assert [c.to_dict() for c in result.tool_calls] == [
        {"id": "tu_9", "name": "add", "arguments": {"a": 1, "b": 2}}
    ]
    assert (result.input_tokens, result.output_tokens, result.stop_reason) == (21, 17, "tool_use")
    assert api.requests[0]["json"]["stream"] is True


def test_the_connection_types_list_models_and_refuse_a_loopback_host_by_default(api):
    api.reply("/v1/models", {"object": "list", "data": [{"id": "gpt-test"}, {"id": "emb"}]})
    api.reply("/v1/models", {"data": [{"id": "claude-test", "type": "model"}]})
    assert "2 model(s)" in connections.get("openai").test(openai_fields(api), LOOPBACK, 5)
    assert "1 model(s)" in connections.get("anthropic").test(anthropic_fields(api), LOOPBACK, 5)
    assert api.requests[1]["headers"]["x-api-key"] == KEY
    with pytest.raises(ConnectionFailed, match="egress refused"):
        connections.get("openai").test(openai_fields(api), EgressPolicy(), 5)
    assert len(api.requests) == 2


def test_a_wrong_key_fails_the_connection_test_without_the_key(api):
    api.reply(
        "/v1/models",
        {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
        status=401,
    )
    with pytest.raises(ConnectionFailed, match="401") as caught:
        connections.get("anthropic").test(anthropic_fields(api), LOOPBACK, 5)
    assert KEY not in str(caught.value)


def test_a_server_that_ignores_streaming_and_answers_json_is_read_whole(api):
    api.reply("/v1/messages", anthropic_message("whole reply"))
    pieces: list[str] = []
    result = chat(provider="anthropic", fields=anthropic_fields(api), messages=[{"role": "user", "content": "hi"}],
                  on_token=pieces.append, policy=LOOPBACK)  # fmt: skip
    assert result.text == "whole reply" and pieces == []
    assert api.requests[0]["json"]["stream"] is True


def test_a_reply_or_a_stream_larger_than_the_limit_is_refused(api, monkeypatch):
    from flomation.lib.llm import base

    monkeypatch.setattr(base, "MAX_RESPONSE_BYTES", 1000)
    api.reply("/v1/chat/completions", openai_completion("x" * 2000))
    with pytest.raises(ModelError, match="answered more than"):
        chat(
            provider="openai",
            fields=openai_fields(api),
            messages=[{"role": "user", "content": "hi"}],
            policy=LOOPBACK,
        )
    chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "y" * 400}}]}
    api.reply("/v1/chat/completions", [("", chunk)] * 5)
    with pytest.raises(ModelError, match="streamed more than"):
        chat(provider="openai", fields=openai_fields(api), messages=[{"role": "user", "content": "hi"}],
             on_token=lambda piece: None, policy=LOOPBACK)  # fmt: skip


def test_an_unreachable_model_api_fails_the_connection_test_saying_so():
    from tests.executor.integrations.servers import closed_port

    fields = {"base_url": f"http://127.0.0.1:{closed_port()}/v1", "api_key": KEY}
    with pytest.raises(ConnectionFailed, match="cannot reach the model API at 127.0.0.1"):
        connections.get("openai").test(fields, LOOPBACK, 5)


def test_a_streamed_piece_is_passed_on_as_soon_as_it_arrives_not_when_the_stream_ends(api):
    import threading

    gate = threading.Event()  # the server sends the first piece, then waits for the client to have seen it
    chunk = {"object": "chat.completion.chunk", "model": "gpt-test"}
    api.reply("/v1/chat/completions", [("", {**chunk, "choices": [{"index": 0, "delta": {"content": w}}]})
                                       for w in ("first ", "second")] + [("", "[DONE]")], gate=gate)  # fmt: skip

    def on_token(piece: str) -> None:
        gate.set()

    result = chat(provider="openai", fields=openai_fields(api), messages=[{"role": "user", "content": "hi"}],
                  on_token=on_token, policy=LOOPBACK)  # fmt: skip
    assert result.text == "first second"
    assert api.gate_timed_out is False
