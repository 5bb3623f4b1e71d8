"""One prompt to a model, with Flomation's node ids: the body every `ai/<provider>` node shares."""

from __future__ import annotations

from flomation.executor.nodes.ai.common import (
    DEFAULT_TIMEOUT,
    Streamer,
    call_model,
    failed,
    history_of,
    schema_of,
    schema_problem,
    temperature_of,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext


def run_prompt(
    ctx: NodeContext, inputs: dict[str, Any], *, provider: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Ask once; with a response schema, check the reply and ask once more for a repair if it misses.

    A model API that refuses or fails gives success false and the reason in `error` (the flow decides),
    as Flomation's nodes do; bad inputs fail the node."""
    from flomation.executor.nodes.ai.agent import run_agent
    from flomation.executor.nodes.ai.tools import tools_of
    from flomation.lib.llm import ModelError

    tools = tools_of(ctx)
    if tools:
        return run_agent(ctx, inputs, provider=provider, fields=fields, tools=tools)
    schema = schema_of(inputs.get("response_schema"))
    messages = [
        *history_of(inputs.get("conversation_history")),
        {"role": "user", "content": inputs["prompt"]},
    ]
    request: dict[str, Any] = {
        "model": str(inputs.get("model") or ""),
        "system": str(inputs.get("system_prompt") or ""),
        "messages": messages,
        "temperature": temperature_of(inputs.get("temperature")),
        "max_tokens": inputs.get("max_tokens") or None,
        "json_schema": schema,
    }
    timeout = float(inputs.get("timeout_seconds") or DEFAULT_TIMEOUT)
    streaming = bool(inputs.get("streaming"))
    used = {"input_tokens": 0, "output_tokens": 0}
    try:
        reply = call_model(
            ctx,
            provider=provider,
            fields=fields,
            request=request,
            timeout=timeout,
            on_token=Streamer(ctx) if streaming else None,
        )
        used = {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
        parsed = None
        if schema is not None:
            parsed, problem = schema_problem(reply.text, schema)
            if problem is not None:
                repair = [
                    *messages,
                    {"role": "assistant", "content": reply.text},
                    {
                        "role": "user",
                        "content": f"That reply cannot be used: {problem}. Answer again with only "
                        "the JSON value, matching the schema exactly.",
                    },
                ]
                reply = call_model(
                    ctx,
                    provider=provider,
                    fields=fields,
                    request={**request, "messages": repair},
                    timeout=timeout,
                    on_token=Streamer(ctx) if streaming else None,  # the repair is shown afresh
                )
                used["input_tokens"] += reply.input_tokens
                used["output_tokens"] += reply.output_tokens
                parsed, problem = schema_problem(reply.text, schema)
                if problem is not None:
                    out = failed(f"after one repair, {problem}", model=reply.model)
                    return {**out, **used, "response": reply.text, "stop_reason": reply.stop_reason}
    except ModelError as error:
        return {**failed(str(error), model=request["model"] or str(fields.get("model") or "")), **used}
    return {
        "response": reply.text,
        "response_json": parsed,
        "model": reply.model,
        **used,
        "stop_reason": reply.stop_reason,
        "success": True,
        "error": "",
        "tool_result": reply.text,
        "tool_calls_count": 0,
    }
