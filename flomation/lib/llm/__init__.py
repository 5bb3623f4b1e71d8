"""Talking to language models: chat (with tools, streaming, structured output) and embeddings. No Django.

Two wire protocols cover the providers a flow uses: OpenAI's chat-completions/embeddings (OpenAI, Azure
OpenAI, Ollama, vLLM, OpenRouter, Groq, LM Studio, ...) and Anthropic's messages API. Both are spoken with
plain `requests` through a session whose every connection passes the egress policy
(`flomation.lib.egress.http.egress_session`): the official SDKs would each bring their own HTTP stack
(httpx) that would need its own egress transport, for two documented JSON endpoints.

Messages use one neutral shape, converted per provider:
  {"role": "system" | "user" | "assistant", "content": str}
  {"role": "assistant", "content": str, "tool_calls": [{"id", "name", "arguments": dict}]}
  {"role": "tool", "tool_call_id": str, "name": str, "content": str}
Tools are {"name", "description", "parameters": JSON schema}.

`fields` are a connection's fields (see `flomation.lib.connections.openai` / `.anthropic`).
"""

from __future__ import annotations

from flomation.lib.llm.base import ChatResult, ModelError, ToolCall
from flomation.lib.llm.client import PROVIDERS, chat, embed

__all__ = ["PROVIDERS", "ChatResult", "ModelError", "ToolCall", "chat", "embed"]
