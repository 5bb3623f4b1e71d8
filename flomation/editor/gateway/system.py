"""The platform as its operators see it (staff only): queues, runners and recent executions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from flomation.core.executions.listener import listener
from flomation.core.selectors import executions as exec_selectors
from flomation.core.selectors import queues as queue_selectors
from flomation.identity.selectors import user_is_staff
from flomation.identity.tokens import IdentityUser


@dataclass(frozen=True)
class SystemView:
    queues: list[queue_selectors.QueueFigures]
    runners: list[queue_selectors.RunnerFigures]
    last_hour: list[dict[str, Any]]
    last_hour_total: int
    waits_in_progress: int
    waits_total: int
    metrics_on: bool


def is_operator(*, user: IdentityUser) -> bool:
    return user_is_staff(user_id=user.user_id)


def system_overview() -> SystemView:
    last_hour = exec_selectors.execution_counts_since(since=timezone.now() - timedelta(hours=1))
    waits = listener()
    return SystemView(
        queues=queue_selectors.queue_metrics(),
        runners=queue_selectors.runner_metrics(seen_within=timedelta(days=7)),
        last_hour=last_hour,
        last_hour_total=sum(row["count"] for row in last_hour),
        waits_in_progress=waits.waits_in_progress(),
        waits_total=waits.slots_total,
        metrics_on=bool(settings.METRICS_TOKEN),
    )
