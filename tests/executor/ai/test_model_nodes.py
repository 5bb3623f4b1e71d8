"""The model nodes against a loopback server implementing OpenAI's and Anthropic's documented endpoints."""

from __future__ import annotations

import json

import pytest

from flomation.executor import ExecutorSettings
from flomation.executor.providers import StaticSecrets
from flomation.lib.egress import EgressPolicy
from tests.executor.conftest import chain, node, outputs_of, run, run_node
from tests.support.model_api import anthropic_message, model_api, openai_completion

KEY = "sk-node-secret-777"


@pytest.fixture
def api():
    with model_api() as server:
        yield server


def test_ai_openai_sends_the_prompt_with_system_history_and_limits_and_returns_the_reply(api):
    api.reply(
        "/v1/chat/completions",
        openai_completion("Paris.", model="gpt-4o-2024", prompt_tokens=20, completion_tokens=3),
    )
    result = run_node("ai/openai", {
        "api_key": KEY, "base_url": f"{api.url}/v1", "system_prompt": "Answer in one word.",
        "prompt": "Capital of France?", "conversation_history": json.dumps([{"role": "user", "content": "Hi"},
                                                                             {"role": "assistant", "content": "Hello"}]),
        "temperature": "0.3", "max_tokens": 16, "streaming": False,
    })  # fmt: skip
    out = outputs_of(result)
    assert result.status == "succeeded"
    assert {k: out[k] for k in ("response", "model", "input_tokens", "output_tokens", "stop_reason", "success", "error")} == {
        "response": "Paris.", "model": "gpt-4o-2024", "input_tokens": 20, "output_tokens": 3, "stop_reason": "stop",
        "success": True, "error": ""}  # fmt: skip
    [request] = api.requests
    assert request["json"] == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Capital of France?"},
        ],
        "max_tokens": 16,
        "temperature": 0.3,
    }
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in json.dumps(result.node_results)
    assert result.to_state()["usage"] == {"input_tokens": 20, "output_tokens": 3}


@pytest.mark.parametrize(("action", "path"), [("ai/ollama", "/v1/chat/completions"), ("ai/groq", "/openai/v1/chat/completions"),
                                              ("ai/openrouter", "/api/v1/chat/completions")])  # fmt: skip
def test_each_openai_compatible_provider_reaches_the_chat_completions_endpoint_of_its_address(
    api, action, path
):
    api.reply(path, openai_completion("ok"))
    base = api.url + path.removesuffix("/chat/completions")
    out = outputs_of(
        run_node(
            action, {"base_url": base, "api_key": KEY, "model": "m1", "prompt": "hi", "streaming": False}
        )
    )
    assert out["response"] == "ok" and api.requests[0]["path"] == path


def test_a_stored_openai_connection_gives_the_address_key_and_default_model(api):
    api.reply("/v1/chat/completions", openai_completion("from the connection"))
    secrets = StaticSecrets(connections={"llm": {"type": "openai", "fields": {
        "base_url": f"{api.url}/v1", "api_key": KEY, "model": "conn-model"}}})  # fmt: skip
    result, recorder = run(chain(node("n", "ai/openai", {"connection": "llm", "model": "", "prompt": "hi", "streaming": False})),
                           secrets=secrets)  # fmt: skip
    assert outputs_of(result)["response"] == "from the connection"
    assert api.requests[0]["json"]["model"] == "conn-model"
    assert KEY not in json.dumps(recorder.events)


def test_azure_openai_calls_the_deployment_with_the_api_version(api):
    api.reply("/openai/deployments/prod-gpt/chat/completions", openai_completion("azure ok"))
    out = outputs_of(run_node("ai/azure_openai", {"endpoint": api.url, "api_key": KEY, "deployment": "prod-gpt",
                                                  "prompt": "hi", "streaming": False}))  # fmt: skip
    assert out["response"] == "azure ok"
    assert api.requests[0]["path"] == "/openai/deployments/prod-gpt/chat/completions?api-version=2024-10-21"
    assert api.requests[0]["headers"]["api-key"] == KEY


def test_ai_anthropic_sends_a_messages_request_and_returns_the_reply(api):
    api.reply("/v1/messages", anthropic_message("Bonjour", input_tokens=30, output_tokens=2))
    out = outputs_of(run_node("ai/anthropic", {"base_url": api.url, "api_key": KEY, "system_prompt": "French only.",
                                               "prompt": "Say hello", "streaming": False}))  # fmt: skip
    assert (out["response"], out["input_tokens"], out["output_tokens"], out["stop_reason"]) == (
        "Bonjour",
        30,
        2,
        "end_turn",
    )
    assert api.requests[0]["json"] == {
        "model": "claude-sonnet-4-6",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": "Say hello"}],
        "system": "French only.",
    }


def test_a_streamed_reply_shows_in_the_run_view_as_it_is_written(api):
    chunk = {"object": "chat.completion.chunk", "model": "gpt-4o"}
    api.reply("/v1/chat/completions", [("", {**chunk, "choices": [{"index": 0, "delta": {"content": w}}]})
                                       for w in ("One ", "two ", "three.")] + [("", "[DONE]")])  # fmt: skip
    result, recorder = run(
        chain(node("n", "ai/openai", {"base_url": f"{api.url}/v1", "api_key": KEY, "prompt": "count"}))
    )
    assert outputs_of(result)["response"] == "One two three."
    streamed = [e for e in recorder.events if e["status"] == "streaming"]
    assert streamed and streamed[0]["outputs"]["response"] == "One "
    assert api.requests[0]["json"]["stream"] is True


def test_a_structured_reply_is_parsed_and_a_bad_one_is_sent_back_once_for_repair(api):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    api.reply(
        "/v1/chat/completions", openai_completion('{"town": "Paris"}', prompt_tokens=10, completion_tokens=4)
    )
    api.reply(
        "/v1/chat/completions", openai_completion('{"city": "Paris"}', prompt_tokens=15, completion_tokens=4)
    )
    out = outputs_of(run_node("ai/openai", {"base_url": f"{api.url}/v1", "api_key": KEY, "prompt": "where?",
                                            "response_schema": json.dumps(schema), "streaming": False}))  # fmt: skip
    assert out["success"] is True and out["response_json"] == {"city": "Paris"}
    assert (out["input_tokens"], out["output_tokens"]) == (25, 8)
    repair = api.requests[1]["json"]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"town": "Paris"}'}
    assert repair[-1]["role"] == "user" and "'city' is a required property" in repair[-1]["content"]
    assert api.requests[0]["json"]["response_format"]["json_schema"]["schema"] == schema


def test_a_reply_that_stays_wrong_after_the_repair_is_unsuccessful_with_the_reason(api):
    schema = {"type": "object", "required": ["city"]}
    api.reply("/v1/messages", anthropic_message("not json"))
    api.reply("/v1/messages", anthropic_message("still not json"))
    out = outputs_of(run_node("ai/anthropic", {"base_url": api.url, "api_key": KEY, "prompt": "where?",
                                               "response_schema": schema, "streaming": False}))  # fmt: skip
    assert out["success"] is False and "after one repair, the reply is not JSON" in out["error"]
    assert len(api.requests) == 2


def test_a_rejected_key_is_an_unsuccessful_result_naming_the_status_and_never_the_key(api):
    api.reply(
        "/v1/messages",
        {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
        status=401,
    )
    result = run_node(
        "ai/anthropic", {"base_url": api.url, "api_key": KEY, "prompt": "hi", "streaming": False}
    )
    out = outputs_of(result)
    assert out["success"] is False and "401" in out["error"] and "invalid x-api-key" in out["error"]
    assert KEY not in json.dumps(result.node_results)


def test_a_model_api_on_a_refused_address_fails_the_node_by_the_egress_policy(api):
    strict = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy())
    result = run_node(
        "ai/openai", {"base_url": f"{api.url}/v1", "api_key": KEY, "prompt": "hi"}, settings=strict
    )
    assert result.status == "failed" and "egress refused" in result.error
    assert api.requests == []


def test_embed_text_returns_the_vectors_with_their_dimensions(api):
    api.reply(
        "/v1/embeddings",
        {"data": [{"index": 0, "embedding": [0.1, 0.2, 0.3]}, {"index": 1, "embedding": [0.4, 0.5, 0.6]}],
         "usage": {"prompt_tokens": 4, "total_tokens": 4}},
    )  # fmt: skip
    result = run_node("ai/embed_text", {"base_url": f"{api.url}/v1", "api_key": KEY, "texts": '["a", "b"]',
                                        "model": "text-embedding-3-small"})  # fmt: skip
    assert result.usage == {"input_tokens": 4, "output_tokens": 0}
    out = outputs_of(result)
    assert out["embeddings"] == [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]] and out["embedding"] == [0.1, 0.2, 0.3]
    assert (out["dimensions"], out["count"], out["success"]) == (3, 2, True)
    assert api.requests[0]["json"] == {"model": "text-embedding-3-small", "input": ["a", "b"]}


def test_a_rate_limited_model_api_is_asked_again_after_its_retry_after(api):
    api.reply(
        "/v1/chat/completions",
        {"error": {"message": "rate limited"}},
        status=429,
        headers={"Retry-After": "1"},
    )
    api.reply("/v1/chat/completions", openai_completion("after the wait"))
    result, recorder = run(
        chain(
            node(
                "n",
                "ai/openai",
                {"base_url": f"{api.url}/v1", "api_key": KEY, "prompt": "hi", "streaming": False},
            )
        )
    )
    assert outputs_of(result)["response"] == "after the wait"
    assert len(api.requests) == 2 and api.requests[0]["json"] == api.requests[1]["json"]
    ran = next(e for e in recorder.events if e["id"] == "n" and e["status"] == "success")
    assert ran["duration_ms"] >= 1000
