"""OpenAI-compatible model APIs: OpenAI, Azure OpenAI, Ollama, vLLM, OpenRouter, Groq, LM Studio, ...

One type for every server that speaks OpenAI's chat-completions and embeddings protocol; the base URL says
which. Azure OpenAI: the resource endpoint as base URL, the API version set, deployments as model names.
The test lists the models, through the egress policy.
"""

from __future__ import annotations

from typing import Any

from flomation.lib.connections.base import Field
from flomation.lib.egress import EgressPolicy

KIND = "openai"
LABEL = "OpenAI-compatible model API"
FIELDS = (
    Field(
        "base_url",
        default="https://api.openai.com/v1",
        description="e.g. https://api.openai.com/v1, http://ollama:11434/v1, https://openrouter.ai/api/v1, "
        "https://api.groq.com/openai/v1, or an Azure resource endpoint.",
    ),
    Field("api_key", "secret", description="Blank for a server that needs none (e.g. a local Ollama)."),
    Field("model", description="Default chat model (Azure: the deployment name), e.g. gpt-4o-mini."),
    Field("embedding_model", description="Default embedding model, e.g. text-embedding-3-small."),
    Field("organization", description="OpenAI organisation id (optional)."),
    Field("api_version", description="Azure OpenAI only: the API version, e.g. 2024-10-21."),
)


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    from flomation.lib.llm.client import connection_test

    return connection_test("openai", fields, policy, timeout)
