"""An execution's life, one package: create, claim, lease, report, control, wait and stream.

Code elsewhere (launch, the editor's gateway, the API's views, the runner protocol's views) calls these names
from here:

* creating (`create`): `execution_create`, `execution_queue`; control (`control`): `execution_run_now`,
  `execution_rerun`, `execution_cancel`, `execution_resume`, `execution_answer`;
* the runner protocol: `execution_claim` (`claim`: one UPDATE ... SKIP LOCKED with eligibility inside it),
  `execution_heartbeat` and `executions_reclaim_expired` (`leases`), `execution_steps_record`,
  `execution_finish` and `execution_release` (`results`); every state change of a leased execution is a
  compare-and-swap on (id, lease_token, state), so a runner whose lease was taken over can change nothing;
* waiting and streaming: `execution_wait_finished` (`waits`, lastNode webhooks) and `execution_events`
  (`events`: the API's and the editor's live event stream, one vocabulary), both woken by the process's one
  listener (`listener`), on the channels named in `channels` and nowhere else.

Names are resolved on first use, so the modules of this package may import each other and the channel names
without a cycle through this file. The runner's registration and request authentication stay in
`flomation.core.services.runs`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "execution_create": "flomation.core.executions.create",
    "execution_queue": "flomation.core.executions.create",
    "CompanionInsert": "flomation.core.executions.create",
    "Created": "flomation.core.executions.create",
    "ExecutionRefused": "flomation.core.executions.create",
    "notify_execution": "flomation.core.executions.create",
    "notify_queue": "flomation.core.executions.create",
    "execution_run_now": "flomation.core.executions.control",
    "execution_rerun": "flomation.core.executions.control",
    "execution_cancel": "flomation.core.executions.control",
    "execution_resume": "flomation.core.executions.control",
    "execution_answer": "flomation.core.executions.control",
    "execution_claim": "flomation.core.executions.claim",
    "inline_ticket": "flomation.core.executions.inline",
    "inline_run": "flomation.core.executions.inline",
    "inline_announce": "flomation.core.executions.inline",
    "InlineRun": "flomation.core.executions.inline",
    "runner_channels": "flomation.core.executions.claim",
    "runner_poll_channel": "flomation.core.executions.claim",
    "runner_poll_supersede": "flomation.core.executions.claim",
    "execution_heartbeat": "flomation.core.executions.leases",
    "execution_lookup_value": "flomation.core.executions.leases",
    "execution_lookup_connection": "flomation.core.executions.leases",
    "execution_lease_scope": "flomation.core.executions.leases",
    "executions_reclaim_expired": "flomation.core.executions.leases",
    "execution_steps_record": "flomation.core.executions.results",
    "execution_finish": "flomation.core.executions.results",
    "execution_release": "flomation.core.executions.results",
    "Report": "flomation.core.executions.results",
    "ProtocolError": "flomation.core.executions.common",
    "LEASED": "flomation.core.executions.common",
    "lease_seconds": "flomation.core.executions.common",
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
