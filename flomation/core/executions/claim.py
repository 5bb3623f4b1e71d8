"""The claim: one statement picks, leases and returns a runner's next executions with all a job needs."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import connection

from flomation.core.executions.channels import notify_execution_sql, runner_poll_channel
from flomation.core.executions.common import lease_seconds
from flomation.core.models import (
    Account,
    Environment,
    Execution,
    Organisation,
    Queue,
    Revision,
    Runner,
    Workflow,
)
from flomation.core.services.egress import egress_policy
from flomation.lib.protocol import ClaimedJob
from flomation.metrics import observe


def runner_poll_supersede(*, runner: Runner, poll_id: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [runner_poll_channel(runner.id), poll_id])


def runner_channels(*, runner: Runner) -> list[str]:
    """The NOTIFY channels of the queues whose work this runner may take (its queue and descendants)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH RECURSIVE q(id) AS (
                    SELECT %s::uuid UNION SELECT c.id FROM {Queue._meta.db_table} c JOIN q ON c.parent_id = q.id
                ) SELECT id FROM q""",
            [runner.queue_id],
        )
        return [Queue(id=row[0]).notify_channel for row in cursor.fetchall()]


# Eligibility, the pick (SKIP LOCKED), the lease, the runner's bookkeeping and everything the job needs,
# in one statement; each claimed execution's channel is notified (its live view shows "claimed").
_CLAIM_SQL = """
WITH RECURSIVE eligible(id) AS (
    SELECT r.queue_id FROM {runner} r WHERE r.id = %(runner)s AND r.enabled
    UNION
    SELECT c.id FROM {queue} c JOIN eligible ON c.parent_id = eligible.id
),
picked AS (
    SELECT x.id FROM {execution} x
    JOIN eligible ON eligible.id = x.queue_id
    JOIN {queue} q ON q.id = x.queue_id
    JOIN {organisation} o ON o.id = x.organisation_id
    WHERE x.state = 'pending' AND NOT x.cancel_requested
      AND (q.organisation_id IS NOT NULL OR o.accept_shared_runners)
    ORDER BY x.priority, x.created_at
    LIMIT %(limit)s
    FOR UPDATE OF x SKIP LOCKED
),
claimed AS (
    UPDATE {execution} e
       SET state = 'claimed', runner_id = %(runner)s, attempt = e.attempt + 1, lease_token = gen_random_uuid(),
           lease_expires_at = now() + make_interval(secs => %(lease)s), claimed_at = now()
      FROM picked WHERE e.id = picked.id
    RETURNING e.*
),
bookkeeping AS (
    UPDATE {runner}
       SET last_contact_at = now(),
           last_claim_at = CASE WHEN EXISTS (SELECT 1 FROM claimed) THEN now() ELSE last_claim_at END,
           slots_in_use = slots_in_use + (SELECT count(*) FROM claimed),
           slots_total = COALESCE(%(slots_total)s, slots_total)
     WHERE id = %(runner)s
)
SELECT c.id, c.lease_token, c.attempt, c.claimed_at, c.trigger_type, c.trigger_data::text, c.entry_node,
       COALESCE(c.progress, c.checkpoint)::text, c.resume_data::text, c.workflow_id, c.organisation_id, c.environment_id,
       rv.number, rv.flow::text, w.name, author.id, author.email, triggerer.email, env.name,
       {notify_claimed},
       org.egress_allow,
       EXISTS (SELECT 1 FROM {runner} r JOIN {queue} rq ON rq.id = r.queue_id
                WHERE r.id = %(runner)s AND rq.organisation_id IS NULL)
  FROM claimed c
  JOIN {organisation} org ON org.id = c.organisation_id
  JOIN {revision} rv ON rv.id = c.revision_id
  JOIN {workflow} w ON w.id = c.workflow_id
  LEFT JOIN {account} author ON author.id = rv.author_id
  LEFT JOIN {account} triggerer ON triggerer.id = c.created_by_id
  LEFT JOIN {environment} env ON env.id = c.environment_id
 ORDER BY c.priority, c.created_at
"""


def _claim_sql() -> str:
    tables = {
        "runner": Runner,
        "queue": Queue,
        "execution": Execution,
        "organisation": Organisation,
        "revision": Revision,
        "workflow": Workflow,
        "account": Account,
        "environment": Environment,
    }
    names = {name: model._meta.db_table for name, model in tables.items()}
    return _CLAIM_SQL.format(**names, notify_claimed=notify_execution_sql("c.id"))


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def execution_claim(*, runner: Runner, limit: int, slots_total: int | None = None) -> list[dict[str, Any]]:
    """Claims up to `limit` eligible pending executions for `runner` in one statement; returns the jobs.

    Eligible: on the runner's queue or one of its descendants; on the shared queue (no organisation) only
    for organisations that accept shared runners. Order: priority, then age. The runner's last contact
    (and, when given, its slot count) is recorded even when nothing is claimed.
    """
    limit = max(0, min(int(limit), 100))
    params = {
        "runner": runner.id,
        "limit": limit,
        "lease": lease_seconds(),
        "slots_total": max(1, min(int(slots_total), 1000)) if slots_total else None,
    }
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), params)
        rows = cursor.fetchall()
    observe("claim_seconds", time.monotonic() - started)
    return [_job(row, runner.id) for row in rows]


def job_context(
    *, workflow_id: Any, workflow_name: str, execution_id: Any, organisation_id: Any, runner_id: Any,
    revision_number: int, attempt: int, claimed_at: Any, trigger_type: str, author_id: Any, author_email: str,
    triggerer_email: str, environment_name: str, environment_id: Any,
) -> dict[str, Any]:  # fmt: skip
    """The run context the executor gets with a claimed execution (`${context.*}` in templates)."""
    return {
        "flow_id": str(workflow_id),
        "flow_name": workflow_name,
        "execution_id": str(execution_id),
        "organisation_id": str(organisation_id),
        "runner_id": str(runner_id),
        "revision": revision_number,
        "attempt": attempt,
        "start_time": claimed_at.isoformat(),
        "trigger_type": trigger_type,
        "author_id": str(author_id) if author_id else "",
        "author_email": author_email or "",
        "triggerer_email": triggerer_email or "",
        "environment": environment_name or "",
        "environment_id": str(environment_id or ""),
        "api_url": settings.API_URL,
    }


def _job(row: tuple[Any, ...], runner_id: uuid.UUID) -> dict[str, Any]:
    (
        execution_id, lease_token, attempt, claimed_at, trigger_type, trigger_data, entry_node, checkpoint,
        resume_data, workflow_id, organisation_id, environment_id, revision_number, flow, workflow_name,
        author_id, author_email, triggerer_email, environment_name, _notified, egress_allow, shared_runner,
    ) = row  # fmt: skip
    context = job_context(
        workflow_id=workflow_id, workflow_name=workflow_name, execution_id=execution_id,
        organisation_id=organisation_id, runner_id=runner_id, revision_number=revision_number, attempt=attempt,
        claimed_at=claimed_at, trigger_type=trigger_type, author_id=author_id, author_email=author_email,
        triggerer_email=triggerer_email, environment_name=environment_name, environment_id=environment_id,
    )  # fmt: skip
    return ClaimedJob(
        id=str(execution_id),
        lease_token=str(lease_token),
        lease_seconds=lease_seconds(),
        attempt=attempt,
        flow=_json(flow),
        trigger_data=_json(trigger_data),
        context=context,
        entry=entry_node or None,
        checkpoint=_json(checkpoint),
        resume_data=_json(resume_data),
        # The platform's runners apply the platform's and the organisation's policy; a dedicated runner
        # (on an organisation's queue, on that organisation's network) applies its own configuration's.
        egress=egress_policy(organisation_ranges=egress_allow or []).to_dict() if shared_runner else None,
    ).to_dict()
