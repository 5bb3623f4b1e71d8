"""Anthropic's messages API (`POST /v1/messages`, version header 2023-06-01), streaming included.

Structured output: the messages API has no JSON-schema response mode, so the schema is given to the model
in the system prompt and the caller validates the reply (and asks once more if it does not match).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

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

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 8192


def endpoint(fields: dict[str, Any], path: str) -> tuple[str, dict[str, str]]:
    base = str(fields.get("base_url") or DEFAULT_BASE_URL).strip().rstrip("/")
    if not base.lower().startswith(("http://", "https://")):
        raise ModelError(f"the base URL must start with http:// or https:// (got {base[:60]!r})")
    if base.endswith("/v1"):
        base = base[:-3]
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "anthropic-version": API_VERSION,
    }
    key = str(fields.get("api_key") or "").strip()
    if key:
        headers["x-api-key"] = key
    return f"{base}/v1/{path}", headers


def to_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The neutral conversation as Anthropic's alternating user/assistant turns (tool results are user turns)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "system":
            continue
        if role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id", ""),
                "content": message["content"],
            }
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif role == "assistant" and message.get("tool_calls"):
            blocks: list[dict[str, Any]] = []
            if message.get("content"):
                blocks.append({"type": "text", "text": message["content"]})
            for call in message["tool_calls"]:
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call["id"],
                        "name": call["name"],
                        "input": call.get("arguments") or {},
                    }
                )
            out.append({"role": "assistant", "content": blocks})
        else:
            out.append(
                {
                    "role": "assistant" if role == "assistant" else "user",
                    "content": message.get("content", ""),
                }
            )
    return out


def chat(exchange: Exchange, fields: dict[str, Any], request: ChatRequest) -> ChatResult:
    model, system, messages = request.model, request.system, request.messages
    temperature, max_tokens, tools = request.temperature, request.max_tokens, request.tools
    json_schema, on_token = request.json_schema, request.on_token
    url, headers = endpoint(fields, "messages")
    system_parts = [system] if system else []
    system_parts += [str(m.get("content") or "") for m in messages if m.get("role") == "system"]
    if json_schema:
        system_parts.append(
            "Reply with only one JSON value (no prose, no code fence) that validates against this JSON schema:\n"
            + json.dumps(json_schema)
        )
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens or DEFAULT_MAX_TOKENS,
        "messages": to_messages(messages),
    }
    if system_parts:
        body["system"] = "\n\n".join(system_parts)
    if temperature is not None:
        body["temperature"] = temperature
    if tools:
        body["tools"] = [
            {
                "name": tool["name"],
                "description": tool.get("description", ""),
                "input_schema": tool.get("parameters") or {"type": "object", "properties": {}},
            }
            for tool in tools
        ]
    if on_token is not None:
        body["stream"] = True
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
    if data.get("type") == "error":
        raise ModelError(f"the model API answered an error: {(data.get('error') or {}).get('message', '')}")
    text, calls = [], []
    for block in data.get("content") or []:
        if block.get("type") == "text":
            text.append(str(block.get("text") or ""))
        elif block.get("type") == "tool_use":
            calls.append(
                ToolCall(
                    id=str(block.get("id") or ""),
                    name=str(block.get("name") or ""),
                    arguments=parse_arguments(block.get("input")),
                )
            )
    usage = data.get("usage") or {}
    return ChatResult(
        text="".join(text),
        model=str(data.get("model") or model),
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        stop_reason=str(data.get("stop_reason") or ""),
        tool_calls=calls,
    )


def _streamed(reply: Any, url: str, model: str, on_token: Callable[[str], None]) -> ChatResult:
    result = ChatResult(model=model)
    text: list[str] = []
    blocks: dict[int, dict[str, Any]] = {}
    for event, data in sse_events(reply, url):
        payload = parse_json_event(data, url)
        kind = payload.get("type") or event
        if kind == "message_start":
            message = payload.get("message") or {}
            result.model = str(message.get("model") or model)
            result.input_tokens = int((message.get("usage") or {}).get("input_tokens") or 0)
        elif kind == "content_block_start":
            block = payload.get("content_block") or {}
            blocks[int(payload.get("index") or 0)] = {**block, "partial": ""}
        elif kind == "content_block_delta":
            delta = payload.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                text.append(delta["text"])
                on_token(delta["text"])
            elif delta.get("type") == "input_json_delta":
                slot = blocks.setdefault(int(payload.get("index") or 0), {"partial": ""})
                slot["partial"] += delta.get("partial_json") or ""
        elif kind == "message_delta":
            result.stop_reason = str((payload.get("delta") or {}).get("stop_reason") or result.stop_reason)
            result.output_tokens = int(
                (payload.get("usage") or {}).get("output_tokens") or result.output_tokens
            )
        elif kind == "error":
            raise ModelError(
                f"the model API stopped the stream: {(payload.get('error') or {}).get('message', '')}"
            )
        elif kind == "message_stop":
            break
    result.text = "".join(text)
    result.tool_calls = [
        ToolCall(
            id=str(block.get("id") or ""),
            name=str(block.get("name") or ""),
            arguments=parse_arguments(block["partial"] or block.get("input")),
        )
        for _, block in sorted(blocks.items())
        if block.get("type") == "tool_use"
    ]
    return result


def models(exchange: Exchange, fields: dict[str, Any]) -> list[str]:
    url, headers = endpoint(fields, "models")
    data = exchange.json_of(exchange.get(url, headers=headers), url)
    return [str(item.get("id")) for item in data.get("data") or [] if isinstance(item, dict)]
