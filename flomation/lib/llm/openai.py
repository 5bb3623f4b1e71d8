"""OpenAI's chat-completions and embeddings protocol, as OpenAI, Azure OpenAI and compatible servers speak it.

Azure is recognised by an `api_version` field: the base URL is then the resource endpoint, the model names
the deployment (`/openai/deployments/<model>/...?api-version=...`) and the key goes in an `api-key` header.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flomation.lib.llm.base import (
    ChatRequest,
    ChatResult,
    Exchange,
    ModelError,
    ToolCall,
    parse_arguments,
    parse_json_event,
    send_chat,
    sse_events,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def endpoint(fields: dict[str, Any], path: str, model: str) -> tuple[str, dict[str, str]]:
    """The URL of `path` ("chat/completions", "embeddings", "models") and the headers, for these fields."""
    base = str(fields.get("base_url") or DEFAULT_BASE_URL).strip().rstrip("/")
    if not base.lower().startswith(("http://", "https://")):
        raise ModelError(f"the base URL must start with http:// or https:// (got {base[:60]!r})")
    key = str(fields.get("api_key") or "").strip()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    version = str(fields.get("api_version") or "").strip()
    if version:
        if not base.endswith("/openai") and "/openai/" not in base + "/":
            base += "/openai"
        query = f"?api-version={quote(version, safe='')}"
        if path == "models":
            return f"{base}/models{query}", {**headers, **({"api-key": key} if key else {})}
        if not model:
            raise ModelError("Azure OpenAI needs the deployment name as the model")
        url = f"{base}/deployments/{quote(model, safe='')}/{path}{query}"
        return url, {**headers, **({"api-key": key} if key else {})}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    organisation = str(fields.get("organization") or fields.get("organisation") or "").strip()
    if organisation:
        headers["OpenAI-Organization"] = organisation
    return f"{base}/{path}", headers


def to_messages(system: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": message.get("tool_call_id", ""),
                    "content": message["content"],
                }
            )
        elif role == "assistant" and message.get("tool_calls"):
            calls = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": json.dumps(call.get("arguments") or {})},
                }
                for call in message["tool_calls"]
            ]
            out.append({"role": "assistant", "content": message.get("content") or None, "tool_calls": calls})
        else:
            out.append({"role": role, "content": message.get("content", "")})
    return out


def chat(exchange: Exchange, fields: dict[str, Any], request: ChatRequest) -> ChatResult:
    model, system, messages = request.model, request.system, request.messages
    temperature, max_tokens, tools = request.temperature, request.max_tokens, request.tools
    json_schema, on_token = request.json_schema, request.on_token
    url, headers = endpoint(fields, "chat/completions", model)
    body: dict[str, Any] = {"model": model, "messages": to_messages(system, messages)}
    if max_tokens:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool.get("description", ""),
                    "parameters": tool.get("parameters") or {"type": "object", "properties": {}},
                },
            }
            for tool in tools
        ]
    if json_schema:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": json_schema},
        }
    if on_token is not None:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return send_chat(
        exchange,
        url,
        headers=headers,
        body=body,
        model=model,
        on_token=on_token,
        streamed=_streamed,
        whole=_whole,
    )


def _whole(data: dict[str, Any], url: str, model: str) -> ChatResult:
    choices = data.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        raise ModelError(f"the model API at {_host(url)} answered without a choice")
    message = choices[0].get("message") or {}
    usage = data.get("usage") or {}
    calls = [
        ToolCall(
            id=str(call.get("id") or f"call_{index}"),
            name=str((call.get("function") or {}).get("name") or ""),
            arguments=parse_arguments((call.get("function") or {}).get("arguments")),
        )
        for index, call in enumerate(message.get("tool_calls") or [])
    ]
    return ChatResult(
        text=str(message.get("content") or ""),
        model=str(data.get("model") or model),
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        stop_reason=str(choices[0].get("finish_reason") or ""),
        tool_calls=calls,
    )


def _streamed(reply: Any, url: str, model: str, on_token: Callable[[str], None]) -> ChatResult:
    result = ChatResult(model=model)
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    for _, data in sse_events(reply, url):
        if data.strip() == "[DONE]":
            break
        chunk = parse_json_event(data, url)
        result.model = str(chunk.get("model") or result.model)
        usage = chunk.get("usage") or {}
        if usage:
            result.input_tokens = int(usage.get("prompt_tokens") or 0)
            result.output_tokens = int(usage.get("completion_tokens") or 0)
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            piece = delta.get("content")
            if piece:
                text.append(piece)
                on_token(piece)
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(int(call.get("index") or 0), {"id": "", "name": "", "arguments": ""})
                function = call.get("function") or {}
                slot["id"] = call.get("id") or slot["id"]
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
            if choice.get("finish_reason"):
                result.stop_reason = str(choice["finish_reason"])
    result.text = "".join(text)
    result.tool_calls = [
        ToolCall(
            id=slot["id"] or f"call_{index}", name=slot["name"], arguments=parse_arguments(slot["arguments"])
        )
        for index, slot in sorted(calls.items())
    ]
    return result


def embed(
    exchange: Exchange,
    fields: dict[str, Any],
    *,
    texts: list[str],
    model: str,
    dimensions: int | None,
    on_usage: Callable[[int], None] | None = None,
) -> list[list[float]]:
    url, headers = endpoint(fields, "embeddings", model)
    body: dict[str, Any] = {"model": model, "input": texts}
    if dimensions:
        body["dimensions"] = dimensions
    data = exchange.json_of(exchange.post(url, headers=headers, body=body), url)
    items = data.get("data")
    if not isinstance(items, list) or len(items) != len(texts):
        raise ModelError(
            f"the model API at {_host(url)} answered {len(items or [])} embeddings for {len(texts)} texts"
        )
    if on_usage is not None:
        on_usage(int((data.get("usage") or {}).get("prompt_tokens") or 0))
    ordered = sorted(items, key=lambda item: int(item.get("index") or 0))
    vectors = []
    for item in ordered:
        vector = item.get("embedding")
        if not isinstance(vector, list) or not all(isinstance(x, int | float) for x in vector):
            raise ModelError(
                f"the model API at {_host(url)} answered an embedding that is not a list of numbers"
            )
        vectors.append([float(x) for x in vector])
    return vectors


def models(exchange: Exchange, fields: dict[str, Any]) -> list[str]:
    url, headers = endpoint(fields, "models", "")
    data = exchange.json_of(exchange.get(url, headers=headers), url)
    return [str(item.get("id")) for item in data.get("data") or [] if isinstance(item, dict)]


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc
