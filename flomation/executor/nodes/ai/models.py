"""The model nodes, one per provider as Flomation names them. OpenAI-compatible providers differ only in
their default address; each takes an `openai` connection (or inline key and address), Anthropic an
`anthropic` one."""

from __future__ import annotations

from flomation.executor.nodes.ai.common import OUTPUTS, connection_inputs, model_connection, prompt_inputs
from flomation.executor.nodes.ai.prompt import run_prompt
from flomation.executor.nodes.ai.tools import TOOLS_HANDLE
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.context import NodeContext

# action -> (name, default base URL, default model, default max tokens, whether a key is needed)
OPENAI_COMPATIBLE: dict[str, tuple[str, str, str, int | None, bool]] = {
    "ai/openai": ("OpenAI Prompt", "https://api.openai.com/v1", "gpt-4o", 2048, True),
    "ai/ollama": ("Ollama Prompt", "http://localhost:11434/v1", "llama3.2", None, False),
    "ai/openrouter": ("OpenRouter Prompt", "https://openrouter.ai/api/v1", "openai/gpt-4o-mini", 2048, True),
    "ai/groq": ("Groq Prompt", "https://api.groq.com/openai/v1", "llama-3.3-70b-versatile", 2048, True),
}
ANTHROPIC_MODEL = "claude-sonnet-4-6"


def _openai_compatible(action: str) -> Callable[..., Any]:
    label, base_url, model, max_tokens, key_required = OPENAI_COMPATIBLE[action]

    def run(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
        fields = model_connection(ctx, inputs, "openai", inline={"base_url": base_url, "model": model})
        return run_prompt(ctx, inputs, provider="openai", fields=fields)

    run.__name__ = action.replace("/", "_")
    provider = label.removesuffix(" Prompt")
    return node(
        action,
        name=label,
        category="ai",
        description=f"Send a prompt to {provider} (OpenAI-compatible chat completions) and return the reply; nodes wired to its tools handle are tools it may call.",
        inputs=(
            *connection_inputs("openai", base_url=base_url, key_required=key_required),
            *prompt_inputs(default_model=model, default_max_tokens=max_tokens),
        ),
        outputs=OUTPUTS,
        handles=("", TOOLS_HANDLE),
    )(run)


for _action in OPENAI_COMPATIBLE:
    _openai_compatible(_action)


@node(
    "ai/anthropic",
    name="Anthropic Prompt",
    category="ai",
    description="Send a prompt to Anthropic's Claude (messages API) and return the reply; nodes wired to its tools handle are tools it may call.",
    inputs=(
        *connection_inputs("anthropic", base_url="https://api.anthropic.com"),
        *prompt_inputs(default_model=ANTHROPIC_MODEL, default_max_tokens=8192),
    ),
    outputs=OUTPUTS,
    handles=("", TOOLS_HANDLE),
)
def anthropic(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    fields = model_connection(ctx, inputs, "anthropic", inline={"model": ANTHROPIC_MODEL})
    return run_prompt(ctx, inputs, provider="anthropic", fields=fields)


@node(
    "ai/azure_openai",
    name="Azure OpenAI Prompt",
    category="ai",
    description="Send a prompt to an Azure OpenAI deployment and return the reply; nodes wired to its tools handle are tools it may call.",
    inputs=(
        connection_inputs("openai")[0],
        Input("api_key", "secret", description="The resource's key (blank: the connection's)."),
        Input("endpoint", "string", description="The resource endpoint, e.g. https://NAME.openai.azure.com."),
        Input(
            "deployment",
            "string",
            description="The deployment name (blank: the model input, else the connection's model).",
        ),
        Input("api_version", "string", default="2024-10-21", description="The Azure OpenAI API version."),
        *prompt_inputs(default_model="", default_max_tokens=2048),
    ),
    outputs=OUTPUTS,
    handles=("", TOOLS_HANDLE),
)
def azure_openai(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    fields = model_connection(
        ctx,
        {**inputs, "base_url": inputs.get("endpoint")},
        "openai",
        inline={"api_version": inputs.get("api_version")},
    )
    if inputs.get("deployment"):
        inputs = {**inputs, "model": inputs["deployment"]}
    return run_prompt(ctx, inputs, provider="openai", fields=fields)
