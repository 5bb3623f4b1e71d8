"""The two calls a node or the platform makes: `chat` and `embed`, for either wire protocol."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flomation.lib.llm import anthropic, openai
from flomation.lib.llm.base import ChatRequest, ChatResult, Exchange, ModelError

PROVIDERS = {"openai": openai, "anthropic": anthropic}

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy


def exchange_for(
    fields: dict[str, Any],
    *,
    session: Any,
    policy: EgressPolicy | None,
    timeout: float,
    deadline: float | None,
    sleep: Callable[[float], None] | None,
) -> Exchange:
    if session is None:
        if policy is None:
            raise ValueError("a model call needs an egress-checked session or an egress policy")
        from flomation.lib.egress.http import egress_session

        session = egress_session(policy)
    secrets = (str(fields.get("api_key") or ""),)
    return Exchange(
        session=session, timeout=timeout, deadline=deadline, secrets=secrets, sleep=sleep or time.sleep
    )


def chat(
    *,
    provider: str,
    fields: dict[str, Any],
    messages: list[dict[str, Any]],
    model: str = "",
    system: str = "",
    temperature: float | None = None,
    max_tokens: int | None = None,
    tools: list[dict[str, Any]] | None = None,
    json_schema: dict[str, Any] | None = None,
    on_token: Callable[[str], None] | None = None,
    session: Any = None,
    policy: EgressPolicy | None = None,
    timeout: float = 120.0,
    deadline: float | None = None,
    sleep: Callable[[float], None] | None = None,
) -> ChatResult:
    """One model turn. `on_token` set: the reply is streamed and each piece of text is passed to it.

    `provider` is "openai" (any OpenAI-compatible endpoint) or "anthropic"; `model` blank: the connection's
    default model. Raises ModelError with a sentence that never contains the key."""
    module = PROVIDERS.get(provider)
    if module is None:
        raise ModelError(f"unknown model provider {provider!r} (use one of {', '.join(PROVIDERS)})")
    model = model or str(fields.get("model") or "")
    if not model:
        raise ModelError("no model is set: name one on the node or as the connection's default model")
    exchange = exchange_for(
        fields, session=session, policy=policy, timeout=timeout, deadline=deadline, sleep=sleep
    )
    request = ChatRequest(
        model=model,
        messages=messages,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
        tools=tools or [],
        json_schema=json_schema,
        on_token=on_token,
    )
    return module.chat(exchange, fields, request)


def embed(
    texts: list[str],
    *,
    fields: dict[str, Any],
    model: str = "",
    dimensions: int | None = None,
    session: Any = None,
    policy: EgressPolicy | None = None,
    timeout: float = 60.0,
    deadline: float | None = None,
    sleep: Callable[[float], None] | None = None,
    on_usage: Callable[[int], None] | None = None,
) -> list[list[float]]:
    """One vector per text, in order, from an OpenAI-compatible `/embeddings` endpoint.

    `model` blank: the connection's `embedding_model`, else its `model`. Give a `session` from
    `egress_session` (a node: the run's) or the `policy` to build one with. `on_usage` gets the input
    tokens the server reports."""
    if not texts:
        return []
    model = model or str(fields.get("embedding_model") or fields.get("model") or "")
    if not model:
        raise ModelError(
            "no embedding model is set: name one on the node or as the connection's embedding model"
        )
    exchange = exchange_for(
        fields, session=session, policy=policy, timeout=timeout, deadline=deadline, sleep=sleep
    )
    return openai.embed(
        exchange, fields, texts=list(texts), model=model, dimensions=dimensions, on_usage=on_usage
    )


def connection_test(provider: str, fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    """A connection type's `test`: list the models, through the egress policy."""
    from flomation.lib.connections.base import ConnectionFailed
    from flomation.lib.egress import EgressDenied

    module = PROVIDERS[provider]
    try:
        exchange = exchange_for(
            fields, session=None, policy=policy, timeout=timeout, deadline=None, sleep=None
        )
        found = module.models(exchange, fields)
    except (ModelError, EgressDenied) as error:
        raise ConnectionFailed(str(error)) from None
    base = str(fields.get("base_url") or module.DEFAULT_BASE_URL)
    return f"connected to {base}: {len(found)} model(s) available"
