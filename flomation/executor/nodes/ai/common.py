"""What the model nodes share: where the connection comes from, the conversation, streaming into the run
view, JSON-schema output (validated, with one repair turn) and the outputs every model node gives."""

from __future__ import annotations

import json
import time

from flomation.executor.coerce import parse_json_text, to_number
from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.lib.llm import ChatResult

# How often a streaming reply is shown in the run view (each showing is one step event).
STREAM_EVERY_SECONDS = 0.25
DEFAULT_TIMEOUT = 120.0

OUTPUTS = (
    "response:string",
    "response_json:object",
    "model:string",
    "input_tokens:integer",
    "output_tokens:integer",
    "stop_reason:string",
    "success:boolean",
    "error:string",
    "tool_result:string",
    "tool_calls_count:integer",
)


def prompt_inputs(*, default_model: str, default_max_tokens: int | None = None) -> tuple[Input, ...]:
    """The inputs of every model node after its connection ones."""
    return (
        Input(
            "model",
            "combobox",
            description="The model (blank: the connection's default model"
            + (f", else {default_model})." if default_model else ")."),
        ),
        Input(
            "system_prompt", "text", description="Instructions the model follows for the whole conversation."
        ),
        Input("prompt", "text", required=True, description="What to ask."),
        Input(
            "conversation_history",
            "object",
            description='Earlier turns: [{"role": "user"|"assistant", "content": "..."}] (or a JSON string).',
        ),
        Input("temperature", "number", description="Sampling temperature (blank: the model's default)."),
        Input("max_tokens", "integer", default=default_max_tokens, description="Longest reply, in tokens."),
        Input(
            "response_schema",
            "object",
            description="A JSON schema the reply must match: the reply is parsed into response_json and "
            "checked; a reply that does not match is sent back once for repair.",
        ),
        Input(
            "streaming",
            "boolean",
            default=True,
            description="Show the reply in the run view as it is written.",
        ),
        Input("timeout_seconds", "number", default=DEFAULT_TIMEOUT),
    )


def model_connection(
    ctx: NodeContext, inputs: dict[str, Any], kind: str, *, inline: dict[str, Any]
) -> dict[str, Any]:
    """The connection's fields, its blanks filled from the node's own inputs (and then from `inline`
    defaults such as a provider's base URL)."""
    fields = connection_fields(
        ctx, inputs, kind, inline=("api_key", "base_url", "api_version"), secret=("api_key",)
    )
    for key, value in inline.items():
        if fields.get(key) in (None, "") and value not in (None, ""):
            fields[key] = value
    return fields


def connection_inputs(kind: str, *, base_url: str = "", key_required: bool = True) -> tuple[Input, ...]:
    return (
        connection_input(kind),
        Input(
            "api_key",
            "secret",
            description="The API key (blank: the connection's)."
            + ("" if key_required else " Not needed by a server without keys."),
        ),
        Input(
            "base_url",
            "string",
            default=None,
            description=f"The API's address (blank: the connection's, else {base_url or 'the provider default'}).",
        ),
    )


def history_of(value: Any) -> list[dict[str, Any]]:
    """Earlier turns in the neutral shape; accepts a list, a JSON string, or {messages: [...]}."""
    value = parse_json_text(value)
    if value in (None, ""):
        return []
    if isinstance(value, dict):
        value = value.get("messages") or value.get("history") or []
    if not isinstance(value, list):
        raise NodeError('input \'conversation_history\' must be a list of {"role", "content"} turns')
    turns = []
    for item in value:
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant", "system", "tool"):
            raise NodeError(
                "each turn of 'conversation_history' needs a role of user or assistant and a content"
            )
        content = item.get("content")
        turn = {**item, "content": content if isinstance(content, str) else json.dumps(content)}
        turns.append(turn)
    return turns


def schema_of(value: Any) -> dict[str, Any] | None:
    value = parse_json_text(value)
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        raise NodeError("input 'response_schema' must be a JSON schema object")
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as error:
        raise NodeError(f"input 'response_schema' is not a valid JSON schema: {error.message}") from None
    return value


def schema_problem(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """(parsed reply, None) when `text` is JSON matching `schema`, else (None, what is wrong)."""
    from jsonschema import Draft202012Validator

    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        parsed = json.loads(body)
    except ValueError as error:
        return None, f"the reply is not JSON ({error.msg} at position {error.pos})"
    problems = sorted(Draft202012Validator(schema).iter_errors(parsed), key=lambda e: list(e.path))
    if problems:
        where = "/".join(str(p) for p in problems[0].path) or "the top level"
        return None, f"the reply does not match the schema at {where}: {problems[0].message}"
    return parsed, None


def temperature_of(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(to_number(value))
    except ValueError:
        raise NodeError(f"input 'temperature' must be a number (got {str(value)[:20]!r})") from None


def session_of(ctx: NodeContext) -> Any:
    from flomation.executor.nodes.web import _session

    return _session(ctx)


class Streamer:
    """Shows a reply in the run view as it is written: a `streaming` event with the text so far, at most
    every STREAM_EVERY_SECONDS (the final text comes with the node's own result)."""

    def __init__(self, ctx: NodeContext, *, step: str = "streaming") -> None:
        self._ctx = ctx
        self._step = step
        self._pieces: list[str] = []
        self._shown = 0.0

    def __call__(self, piece: str) -> None:
        self._pieces.append(piece)
        now = time.monotonic()
        if now - self._shown >= STREAM_EVERY_SECONDS:
            self._shown = now
            self._ctx.progress(self._step, outputs={"response": "".join(self._pieces)})


def call_model(
    ctx: NodeContext,
    *,
    provider: str,
    fields: dict[str, Any],
    request: dict[str, Any],
    timeout: float,
    on_token: Callable[[str], None] | None,
) -> ChatResult:
    """One model turn under the node's deadline and cancellation; the egress refusal logged once."""
    from flomation.lib.egress import EgressDenied
    from flomation.lib.llm import chat

    session = session_of(ctx)
    limit = ctx.remaining(timeout) or timeout
    deadline = time.monotonic() + limit

    def send() -> ChatResult:
        return chat(
            provider=provider,
            fields=fields,
            session=session,
            timeout=limit,
            deadline=deadline,
            sleep=ctx.sleep,
            on_token=on_token,
            **request,
        )

    try:
        reply = ctx.call_blocking(send, on_abort=session.close)
    except EgressDenied as refused:
        ctx.egress_refused(refused)
        raise NodeError(str(refused)) from None
    ctx.add_usage(input_tokens=reply.input_tokens, output_tokens=reply.output_tokens)
    return reply


def failed(message: str, *, model: str = "") -> dict[str, Any]:
    return {
        "response": "",
        "response_json": None,
        "model": model,
        "input_tokens": 0,
        "output_tokens": 0,
        "stop_reason": "",
        "success": False,
        "error": message,
        "tool_result": message,
        "tool_calls_count": 0,
    }
