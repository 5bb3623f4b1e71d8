"""AI: agents' conversation memory and model token usage, summed per execution and per organisation per
UTC day as results arrive (see executions.results)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flomation.core.models import AgentMemory, AiUsageDay


def agent_memory_get(*, organisation_id: Any, environment_id: Any, key: str) -> dict[str, Any] | None:
    """{"messages", "summary"} kept under `key` for this organisation and environment, or None."""
    found = (
        AgentMemory.objects.filter(organisation_id=organisation_id, environment_id=environment_id, key=key)
        .values("messages", "summary")
        .first()
    )
    return dict(found) if found is not None else None


def ai_usage_by_day(*, organisation_id: Any, days: int = 30) -> list[dict[str, Any]]:
    """The organisation's model tokens per UTC day for the last `days` days, newest first (days without
    any usage are left out)."""
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=max(1, days) - 1)
    rows = AiUsageDay.objects.filter(organisation_id=organisation_id, day__gte=since).order_by("-day")
    return [
        {
            "day": row.day.isoformat(),
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
            "executions": row.executions,
        }
        for row in rows
    ]
