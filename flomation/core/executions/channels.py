"""Every PostgreSQL NOTIFY channel of an execution's life, named here and nowhere else.

* `EXECUTIONS`: one channel for every execution's change (created, claimed, a step batch, finished,
  released, cancelled); the payload is the execution's id as 32 hex digits. One channel rather than one per
  execution, so a process LISTENs once and a waiter needs no LISTEN of its own (no round trip, no race).
* `queue_channel(queue_id)`: wakes runners long-polling that queue (a new pending execution).
* `runner_poll_channel(runner_id)`: ends a runner's older long polls (payload: the id of the poll that stays).
"""

from __future__ import annotations

import uuid
from typing import Any

EXECUTIONS = "flomation_executions"


def _hex(value: Any) -> str:
    return getattr(value, "hex", None) or str(value).replace("-", "")


def queue_channel(queue_id: Any) -> str:
    return f"flomation_q_{_hex(queue_id)}"


def runner_poll_channel(runner_id: Any) -> str:
    return f"flomation_r_{_hex(runner_id)}"


def execution_key(execution_id: Any) -> str:
    """The payload of an execution's NOTIFY on `EXECUTIONS` (and the key waiters are filed under)."""
    return _hex(execution_id if isinstance(execution_id, uuid.UUID) else str(execution_id)).lower()


def notify_execution_sql(id_column: str) -> str:
    """A SQL expression that notifies `EXECUTIONS` for the execution whose id is `id_column` (for the
    SELECT list of a statement, so the NOTIFY commits with the change it announces)."""
    return f"pg_notify('{EXECUTIONS}', replace({id_column}::text, '-', ''))"


def notify_queue_sql(queue_column: str) -> str:
    """A SQL expression that wakes the runners of the queue whose id is `queue_column`."""
    return f"pg_notify('flomation_q_' || replace({queue_column}::text, '-', ''), '')"
