"""Embeddings for the vector nodes: an OpenAI-compatible `/embeddings` endpoint (OpenAI, Azure OpenAI's
compatible endpoint, Ollama, vLLM, LM Studio, TEI...), reached through the egress policy.

The endpoint comes from a stored `openai` connection (`embedding_connection`: base URL, API key, default
model) or from Flomation's inline inputs (`provider`, `base_url`, `api_key`, `model`).
"""

from __future__ import annotations

from typing import Any

from flomation.executor.connections import connection_fields
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.engine.context import NodeContext

OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "text-embedding-3-small"
TIMEOUT_SECONDS = 60.0


def embedding_inputs() -> tuple[Input, ...]:
    return (
        Input(
            "embedding_source",
            "string",
            default="vector",
            options=(
                {"name": "Use a vector from a previous step", "value": "vector"},
                {"name": "Embed the text for me", "value": "inline"},
            ),
            description="Where the vector comes from: given ('embedding'), or made from the text by an "
            "embedding model.",
        ),
        Input("embedding", "object", description="The vector (an array of numbers) when it is given."),
        Input(
            "embedding_connection",
            "connection",
            connection="openai",
            description="A stored OpenAI-compatible connection that makes embeddings (or fill in below).",
        ),
        Input(
            "provider",
            "string",
            default="openai",
            options=("openai", "openai_compatible", "ollama"),
            description="Embedding service, when no connection is picked.",
        ),
        Input("base_url", "string", description="Endpoint of an OpenAI-compatible or Ollama server."),
        Input("api_key", "secret", description="The embedding service's key (use ${secrets.NAME})."),
        Input("model", "string", description=f"Embedding model (default {DEFAULT_MODEL})."),
        Input("dimensions", "integer", description="Ask the model for this many dimensions (optional)."),
    )


def _endpoint(ctx: NodeContext, inputs: dict[str, Any]) -> tuple[str, str, str]:
    """(base URL, API key, model) from the stored connection completed by the inline inputs."""
    fields = connection_fields(
        ctx,
        {**inputs, "connection": inputs.get("embedding_connection")},
        "openai",
        inline=("base_url", "api_key", "model"),
        secret=("api_key",),
    )
    provider = str(inputs.get("provider") or "openai")
    base = str(fields.get("base_url") or "").strip().rstrip("/")
    if not base:
        if provider != "openai":
            raise NodeError(f"the {provider} embedding provider needs a base_url")
        base = OPENAI_URL
    if provider == "ollama" and not base.endswith("/v1"):
        base += "/v1"  # Ollama's OpenAI-compatible API
    model = str(inputs.get("model") or fields.get("embedding_model") or fields.get("model") or DEFAULT_MODEL)
    return base, str(fields.get("api_key") or ""), model


def embed_texts(ctx: NodeContext, inputs: dict[str, Any], texts: list[str]) -> list[list[float]]:
    """One vector per text, in order. Fails the node with a sentence naming what went wrong (never the key)."""
    from flomation.executor.nodes.web import _session
    from flomation.lib.egress import EgressDenied
    from flomation.lib.llm.base import ModelError
    from flomation.lib.llm.client import embed

    if not texts:
        return []
    base, key, model = _endpoint(ctx, inputs)
    dimensions = int(inputs["dimensions"]) if inputs.get("dimensions") else None
    try:
        return ctx.call_blocking(
            lambda: embed(
                texts,
                fields={"base_url": base, "api_key": key},
                model=model,
                dimensions=dimensions,
                session=_session(ctx),
                timeout=TIMEOUT_SECONDS,
            )
        )
    except EgressDenied as error:
        ctx.egress_refused(error)
        raise NodeError(str(error)) from None
    except ModelError as error:
        raise NodeError(str(error)) from None
