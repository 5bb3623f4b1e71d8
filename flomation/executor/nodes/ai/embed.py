"""`ai/embed_text`: text (or a batch) in, vectors out, from an OpenAI-compatible embeddings endpoint."""

from __future__ import annotations

from flomation.executor.coerce import parse_json_text
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.ai.common import connection_inputs, model_connection, session_of
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_TEXTS = 1000


@node(
    "ai/embed_text",
    name="Embed Text",
    category="ai",
    description="Turn text into an embedding (a vector of its meaning) for storing in or searching a vector store.",
    inputs=(
        *connection_inputs("openai", base_url="https://api.openai.com/v1"),
        Input(
            "provider",
            "string",
            default="openai",
            options=("openai", "openai_compatible", "ollama"),
            description="Where the base URL defaults to (a connection or base URL overrides it).",
        ),
        Input(
            "model",
            "combobox",
            description="The embedding model, e.g. text-embedding-3-small or nomic-embed-text (blank: the "
            "connection's embedding model, else text-embedding-3-small).",
        ),
        Input("text", "text", description="The text to embed."),
        Input("texts", "object", description='Several at once: ["first", "second"] (overrides text).'),
        Input("dimensions", "integer", description="Vector size, for models that can shorten theirs."),
        Input("timeout_seconds", "number", default=60),
    ),
    outputs=(
        "embedding:array",
        "embeddings:array",
        "dimensions:integer",
        "count:integer",
        "model:string",
        "tool_result:string",
        "success:boolean",
        "error:string",
    ),
)
def embed_text(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.egress import EgressDenied
    from flomation.lib.llm import ModelError, embed

    texts = _texts(inputs)
    default_base = (
        "http://localhost:11434/v1" if inputs.get("provider") == "ollama" else "https://api.openai.com/v1"
    )
    fields = model_connection(ctx, inputs, "openai", inline={"base_url": default_base})
    model = str(inputs.get("model") or fields.get("embedding_model") or "text-embedding-3-small")
    session = session_of(ctx)
    timeout = float(ctx.remaining(float(inputs.get("timeout_seconds") or 60)) or 60)

    def send() -> list[list[float]]:
        return embed(
            texts,
            fields=fields,
            model=model,
            dimensions=inputs.get("dimensions") or None,
            session=session,
            timeout=timeout,
            sleep=ctx.sleep,
            on_usage=lambda tokens: ctx.add_usage(input_tokens=tokens, output_tokens=0),
        )

    try:
        vectors = ctx.call_blocking(send, on_abort=session.close)
    except EgressDenied as refused:
        ctx.egress_refused(refused)
        raise NodeError(str(refused)) from None
    except ModelError as error:
        return {"success": False, "error": str(error), "tool_result": str(error), "model": model}
    dimensions = len(vectors[0]) if vectors else 0
    summary = f"Embedded {len(vectors)} text{'s' if len(vectors) != 1 else ''} with {model}: {dimensions} dimensions."
    return {
        "embedding": vectors[0],
        "embeddings": vectors,
        "dimensions": dimensions,
        "count": len(vectors),
        "model": model,
        "tool_result": summary,
        "success": True,
        "error": "",
    }


def _texts(inputs: dict[str, Any]) -> list[str]:
    batch = parse_json_text(inputs.get("texts"))
    if batch not in (None, "", []):
        if not isinstance(batch, list) or not all(isinstance(t, str) for t in batch):
            raise NodeError('input \'texts\' must be a JSON array of strings, like ["first", "second"]')
        texts = batch
    elif inputs.get("text"):
        texts = [str(inputs["text"])]
    else:
        raise NodeError("there is nothing to embed: fill in text, or give texts a JSON array")
    if len(texts) > MAX_TEXTS:
        raise NodeError(
            f"texts has {len(texts)} entries, more than the {MAX_TEXTS} one step embeds; split them"
        )
    return texts
