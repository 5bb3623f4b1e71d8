"""An execution's life, one entry point: create, claim, lease, report, control, wait and stream.

Code elsewhere (launch, the editor's gateway, the API's views) calls these names from here:

* creating: `execution_create`, `execution_run_now`, `execution_rerun`;
* the runner protocol: `execution_claim`, `execution_heartbeat`, `execution_steps_record`, `execution_finish`,
  `execution_release`, `executions_reclaim_expired`;
* control: `execution_cancel`, `execution_resume`;
* waiting and streaming: `execution_wait_finished` (lastNode webhooks) and `execution_events` (the API's
  and the editor's live event stream, one vocabulary), both woken by the process's one listener
  (`listener`), on the channels named in `channels` and nowhere else.

Modules of this package: `channels`, `listener`, `waits`, `events`. Creation, the protocol's statements and
control live in `flomation.core.services.executions`, `flomation.core.services.runs` and
`flomation.core.services.execution_control`, and are re-exported here (resolved on first use, so that
those modules may themselves import the channel names from this package).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "execution_create": "flomation.core.services.executions",
    "execution_queue": "flomation.core.services.executions",
    "CompanionInsert": "flomation.core.services.executions",
    "execution_run_now": "flomation.core.services.execution_control",
    "execution_rerun": "flomation.core.services.execution_control",
    "execution_cancel": "flomation.core.services.execution_control",
    "execution_resume": "flomation.core.services.execution_control",
    "execution_claim": "flomation.core.services.runs",
    "execution_heartbeat": "flomation.core.services.runs",
    "execution_steps_record": "flomation.core.services.runs",
    "execution_finish": "flomation.core.services.runs",
    "execution_release": "flomation.core.services.runs",
    "executions_reclaim_expired": "flomation.core.services.runs",
    "execution_wait_finished": "flomation.core.executions.waits",
    "ExecutionOutcome": "flomation.core.executions.waits",
    "execution_events": "flomation.core.executions.events",
    "listener": "flomation.core.executions.listener",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)
