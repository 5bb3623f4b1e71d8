"""An agent's conversation memory, kept by the platform (PostgreSQL) under a session key the flow chooses.

The executor cannot reach the database: the run's provider does it (`get_memory(key)` / `save_memory(key,
memory)`; the runner asks the API with signed calls scoped to the execution's organisation and
environment). A memory is {"messages": [...], "summary": "..."}.

`window` keeps the last N messages (whole exchanges: it never starts inside one). `summary` keeps the last N turns too, and folds the older ones into a
running summary written by the model, which is given to the model with the system prompt.
"""

from __future__ import annotations

from flomation.executor.engine.errors import NodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MODES = ("none", "window", "summary")
MAX_KEY_CHARS = 200


def memory_load(ctx: NodeContext, key: str) -> dict[str, Any]:
    get = getattr(ctx.secrets, "get_memory", None)
    if get is None:
        raise NodeError("conversation memory is not available to this run (no platform to keep it)")
    _check(key)
    found = get(key) or {}
    messages = found.get("messages") if isinstance(found.get("messages"), list) else []
    return {"messages": messages, "summary": str(found.get("summary") or "")}


def memory_save(ctx: NodeContext, key: str, memory: dict[str, Any]) -> None:
    save = getattr(ctx.secrets, "save_memory", None)
    if save is None:
        raise NodeError("conversation memory is not available to this run (no platform to keep it)")
    save(key, memory)


def _check(key: str) -> None:
    if not key or len(key) > MAX_KEY_CHARS:
        raise NodeError(f"input 'memory_key' must be 1 to {MAX_KEY_CHARS} characters")


def memory_trim(
    memory: dict[str, Any], *, mode: str, window: int, summarise: Callable[[str, list[dict[str, Any]]], str]
) -> dict[str, Any]:
    """The memory to keep: the last `window` turns (whole exchanges: never starting on a tool result or an
    assistant's tool call), and in summary mode the older turns folded into the summary."""
    messages = [m for m in memory["messages"] if m.get("role") in ("user", "assistant", "tool")]
    if len(messages) <= window:
        return {"messages": messages, "summary": memory.get("summary", "")}
    cut = len(messages) - window
    while cut < len(messages) and messages[cut].get("role") != "user":
        cut += 1
    if cut == len(messages):  # the last exchange alone is longer than the window: keep it whole
        cut = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)
    older, kept = messages[:cut], messages[cut:]
    summary = memory.get("summary", "")
    if mode == "summary" and older:
        summary = summarise(summary, older)
    return {"messages": kept, "summary": summary}


def summary_request(summary: str, older: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines = []
    for message in older:
        if message.get("role") == "tool":
            lines.append(f"tool result: {str(message.get('content'))[:500]}")
        elif message.get("content"):
            lines.append(f"{message['role']}: {message['content']}")
    text = "\n".join(lines)
    ask = (
        "Update the summary of this conversation so far with the turns below. Keep names, facts, decisions and "
        "open questions; at most 200 words; reply with the summary only.\n\n"
        f"Summary so far:\n{summary or '(none)'}\n\nTurns:\n{text}"
    )
    return [{"role": "user", "content": ask}]
