"""`ai/agent`: a tool-calling loop. The model is asked, the tools it calls run (each a step of the
execution), their results go back, until it answers without a tool call or a bound is reached (model
calls, seconds). Each model call is reported as a `model_call` step of the agent with what was sent and
what came back, so the run view shows the agent's reasoning trail. Conversation memory is kept by the
platform under a session key the flow chooses (see memory.py)."""

from __future__ import annotations

import time

from flomation.executor.coerce import to_str
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.ai.common import (
    DEFAULT_TIMEOUT,
    Streamer,
    call_model,
    history_of,
    model_connection,
    temperature_of,
)
from flomation.executor.nodes.ai.memory import MODES, memory_load, memory_save, memory_trim, summary_request
from flomation.executor.nodes.ai.tools import TOOLS_HANDLE, Tool, call_tool, tools_of
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.lib.llm import ChatResult

PROVIDERS = ("openai", "anthropic")
MAX_ITERATIONS_CEILING = 50


@node(
    "ai/agent",
    name="AI Agent",
    category="ai",
    description="A model that calls tools (the nodes wired to its tools handle) until it has an answer; "
    "keeps conversation memory by a session key.",
    inputs=(
        Input(
            "connection",
            "connection",
            connection="openai anthropic",
            description="A stored openai or anthropic connection (or fill in the inputs below).",
        ),
        Input(
            "provider",
            "string",
            default="openai",
            options=PROVIDERS,
            description="The API to speak when no connection is chosen.",
        ),
        Input("api_key", "secret", description="The API key (blank: the connection's)."),
        Input(
            "base_url", "string", description="The API's address (blank: the connection's or the provider's)."
        ),
        Input("model", "combobox", description="The model (blank: the connection's default model)."),
        Input(
            "system_prompt", "text", description="Instructions: who the agent is and how it uses its tools."
        ),
        Input("prompt", "text", required=True, description="The task or the user's message."),
        Input("conversation_history", "object", description="Earlier turns given by the flow."),
        Input("memory_key", "string", description="Session key: turns are remembered under it across runs."),
        Input(
            "memory_mode",
            "string",
            default="window",
            options=MODES,
            description="window: the last turns; summary: the last turns and a summary of older ones.",
        ),
        Input("memory_window", "integer", default=20, description="How many messages memory keeps in full."),
        Input("temperature", "number"),
        Input("max_tokens", "integer", default=4096, description="Longest reply per model call, in tokens."),
        Input("max_iterations", "integer", default=10, description="Most model calls for one task."),
        Input("max_seconds", "number", default=300, description="Most time for one task, tools included."),
        Input(
            "streaming",
            "boolean",
            default=True,
            description="Show replies in the run view as they are written.",
        ),
    ),
    outputs=(
        "response:string",
        "model:string",
        "input_tokens:integer",
        "output_tokens:integer",
        "stop_reason:string",
        "iterations:integer",
        "tool_calls_count:integer",
        "tool_calls:array",
        "success:boolean",
        "error:string",
        "tool_result:string",
    ),
    handles=("", TOOLS_HANDLE),
)
def agent(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    provider, fields = _connection(ctx, inputs)
    return run_agent(ctx, inputs, provider=provider, fields=fields, tools=tools_of(ctx))


def run_agent(
    ctx: NodeContext, inputs: dict[str, Any], *, provider: str, fields: dict[str, Any], tools: list[Tool]
) -> dict[str, Any]:
    """The tool-calling loop; also what a prompt node with tools wired to it runs (as Flomation's do).
    Inputs it does not find (a prompt node has no memory_key, max_iterations, ...) take their defaults."""
    from flomation.lib.llm import ModelError

    by_name = {tool.name: tool for tool in tools}
    key = to_str(inputs.get("memory_key") or "").strip()
    mode = inputs.get("memory_mode") or "window"
    memory = memory_load(ctx, key) if key and mode != "none" else None
    system = str(inputs.get("system_prompt") or "")
    if memory and memory["summary"]:
        system = (
            f"{system}\n\nSummary of the conversation before the turns below:\n{memory['summary']}".strip()
        )
    earlier = [*history_of(inputs.get("conversation_history")), *(memory["messages"] if memory else [])]
    new = [{"role": "user", "content": inputs["prompt"]}]
    request: dict[str, Any] = {
        "model": str(inputs.get("model") or fields.get("model") or ""),
        "system": system,
        "temperature": temperature_of(inputs.get("temperature")),
        "max_tokens": inputs.get("max_tokens") or None,
        "tools": [tool.definition() for tool in tools],
        "json_schema": None,
    }
    limit = min(max(1, int(inputs.get("max_iterations") or 10)), MAX_ITERATIONS_CEILING)
    ends = time.monotonic() + float(inputs.get("max_seconds") or 300)
    streaming = bool(inputs.get("streaming"))
    totals = {"input_tokens": 0, "output_tokens": 0}
    trail: list[dict[str, Any]] = []
    reply: ChatResult | None = None
    outcome = {"stop_reason": "", "error": ""}
    try:
        for iteration in range(1, limit + 1):
            left = ends - time.monotonic()
            if left <= 0:
                outcome = {
                    "stop_reason": "time_limit",
                    "error": f"stopped after {inputs.get('max_seconds')} s without a final answer",
                }
                break
            reply = _model_call(
                ctx, provider, fields, {**request, "messages": [*earlier, *new]}, iteration, left, streaming
            )
            totals["input_tokens"] += reply.input_tokens
            totals["output_tokens"] += reply.output_tokens
            new.append(reply.assistant_message())
            if not reply.tool_calls:
                outcome = {"stop_reason": reply.stop_reason or "end_turn", "error": ""}
                break
            for number, call in enumerate(reply.tool_calls):
                text, ok = _run_tool(
                    ctx, by_name.get(call.name), call.name, call.id, call.arguments, len(trail) + number
                )
                new.append({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": text})
                trail.append(
                    {"name": call.name, "arguments": call.arguments, "ok": ok, "iteration": iteration}
                )
        else:
            outcome = {
                "stop_reason": "max_iterations",
                "error": f"stopped after {limit} model calls without a final answer",
            }
        if memory is not None and not outcome["error"]:
            _remember(ctx, provider, fields, request, key, mode, inputs, memory, new, totals)
    except ModelError as error:
        outcome = {"stop_reason": "error", "error": str(error)}
    text = reply.text if reply is not None and not reply.tool_calls else ""
    return {
        "response": text,
        "model": reply.model if reply is not None else request["model"] or str(fields.get("model") or ""),
        **totals,
        "stop_reason": outcome["stop_reason"],
        "iterations": sum(1 for m in new if m["role"] == "assistant"),
        "tool_calls_count": len(trail),
        "tool_calls": trail,
        "success": not outcome["error"],
        "error": outcome["error"],
        "tool_result": text or outcome["error"],
    }


def _connection(ctx: NodeContext, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(provider, fields): a stored connection's type decides the provider, else the `provider` input."""
    provider = str(inputs.get("provider") or "openai")
    name = inputs.get("connection")
    if name:
        get = getattr(ctx.secrets, "get_connection", None)
        found = get(str(name)) if get is not None else None
        kind = (found or {}).get("type")
        if kind in PROVIDERS:
            provider = kind
        elif found:
            raise NodeError(
                f"connection '{name}' is a {kind} connection, the agent needs openai or anthropic"
            )
    if provider not in PROVIDERS:
        raise NodeError(f"input 'provider' must be one of {', '.join(PROVIDERS)}")
    return provider, model_connection(ctx, inputs, provider, inline={})


def _model_call(
    ctx: NodeContext,
    provider: str,
    fields: dict[str, Any],
    request: dict[str, Any],
    iteration: int,
    left: float,
    streaming: bool,
) -> ChatResult:
    started = time.perf_counter()
    reply = call_model(
        ctx,
        provider=provider,
        fields=fields,
        request=request,
        timeout=min(left, DEFAULT_TIMEOUT * 2),
        on_token=Streamer(ctx) if streaming else None,  # each call's reply is shown on its own
    )
    sent = {
        "iteration": iteration,
        "model": request["model"],
        "messages": request["messages"][-6:],
        "tools": [t["name"] for t in request["tools"]],
    }
    got = {
        "response": reply.text,
        "tool_calls": [c.to_dict() for c in reply.tool_calls],
        "model": reply.model,
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "stop_reason": reply.stop_reason,
        "duration_ms": int((time.perf_counter() - started) * 1000),
    }
    ctx.progress("model_call", inputs=sent, outputs=got)
    return reply


def _run_tool(
    ctx: NodeContext, tool: Tool | None, name: str, call_id: str, arguments: dict[str, Any], index: int
) -> tuple[str, bool]:
    if tool is None:
        return f"there is no tool named {name!r}", False
    return call_tool(ctx, tool, call_id, arguments, index=index)


def _remember(
    ctx: NodeContext,
    provider: str,
    fields: dict[str, Any],
    request: dict[str, Any],
    key: str,
    mode: str,
    inputs: dict[str, Any],
    memory: dict[str, Any],
    new: list[dict[str, Any]],
    totals: dict[str, int],
) -> None:
    def summarise(summary: str, older: list[dict[str, Any]]) -> str:
        ask = {**request, "system": "", "tools": [], "messages": summary_request(summary, older)}
        reply = call_model(
            ctx, provider=provider, fields=fields, request=ask, timeout=DEFAULT_TIMEOUT, on_token=None
        )
        totals["input_tokens"] += reply.input_tokens
        totals["output_tokens"] += reply.output_tokens
        return reply.text.strip()

    window = max(2, int(inputs.get("memory_window") or 20))
    kept = memory_trim(
        {**memory, "messages": [*memory["messages"], *new]}, mode=mode, window=window, summarise=summarise
    )
    memory_save(ctx, key, kept)
