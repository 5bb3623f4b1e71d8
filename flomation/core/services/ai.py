"""AI: agents' conversation memory, written by executions through the runner protocol (reads and token
usage are in selectors.ai)."""

from __future__ import annotations

from typing import Any

from flomation.core.models import AgentMemory

MAX_MEMORY_MESSAGES = 500
MAX_KEY_CHARS = 200  # AgentMemory.key
MAX_MEMORY_CHARS = 1_000_000


def agent_memory_save(*, organisation_id: Any, environment_id: Any, key: str, memory: Any) -> None:
    """Keeps `memory` under `key` (replacing what was there). Raises ValueError when it is malformed or
    larger than MAX_MEMORY_MESSAGES turns or MAX_MEMORY_CHARS characters."""
    import json

    if not key or len(key) > MAX_KEY_CHARS:
        raise ValueError(f"a memory key is 1 to {MAX_KEY_CHARS} characters")
    if not isinstance(memory, dict):
        raise ValueError("'memory' must be an object with messages and summary")
    messages, summary = memory.get("messages") or [], memory.get("summary") or ""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ValueError("'memory.messages' must be a list of objects")
    if not isinstance(summary, str):
        raise ValueError("'memory.summary' must be text")
    if len(messages) > MAX_MEMORY_MESSAGES or len(json.dumps(messages)) + len(summary) > MAX_MEMORY_CHARS:
        raise ValueError(
            f"a memory keeps at most {MAX_MEMORY_MESSAGES} turns and {MAX_MEMORY_CHARS} characters"
        )
    AgentMemory.objects.update_or_create(
        organisation_id=organisation_id,
        environment_id=environment_id,
        key=key,
        defaults={"messages": messages, "summary": summary},
    )
