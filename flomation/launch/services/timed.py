"""Timed triggers run by the launch loop under a lease: schedules fire, pollers poll.

A failure is recorded on the trigger (last_error, last_polled_at) and pushes its next run into the future,
so one broken trigger cannot make the loop spin.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction

from flomation.launch.config import first, poll_interval_seconds
from flomation.launch.models import ScheduleFire, Trigger, TriggerKind
from flomation.launch.pollers import PollResult, poller_for
from flomation.launch.schedules import ScheduleError, latest_due, next_fire_after, schedule_from_config
from flomation.launch.services.gateway import execution_gateway
from flomation.launch.services.secrets import scrub, trigger_secrets
from flomation.lib.egress import EgressDenied
from flomation.metrics import observe

logger = logging.getLogger(__name__)

ERROR_RETRY = timedelta(seconds=60)

# The fencing statement: the tick moves on only if it is still the one this process chose (`next_run_at`
# unchanged) and this process still holds the lease it held when it chose it (same owner, same
# acquisition). The lease row is share-locked until the fire commits, so it cannot change hands between
# this check and the commit; a holder stalled past its lease finds the row changed and fires nothing.
_FENCED_ADVANCE = """
WITH held AS (
    SELECT 1 FROM launch_triggerlease
     WHERE trigger_id = %(trigger)s AND owner = %(owner)s AND acquired_at = %(token)s
       FOR SHARE
)
UPDATE launch_trigger
   SET next_run_at = %(following)s, last_fired_at = %(now)s, last_polled_at = %(now)s, last_error = ''
 WHERE id = %(trigger)s AND next_run_at = %(due)s AND EXISTS (SELECT 1 FROM held)
"""


class CursorMoved(Exception):
    """Another process advanced this poller's cursor: this poll's items are theirs."""


def timed_trigger_run(*, trigger: Trigger, owner: str, now: datetime) -> bool:
    """Runs one due timed trigger. Returns True if it started at least one execution."""
    try:
        if trigger.kind == TriggerKind.SCHEDULE:
            return schedule_fire_due(trigger=trigger, owner=owner, now=now)
        return poller_run(trigger=trigger, now=now) > 0
    except Exception as error:
        secrets = _safe_secrets(trigger)
        if isinstance(error, EgressDenied):
            message = scrub(str(error), secrets)[:2000]
            logger.warning(
                "organisation %s, trigger %s (%s, node %s): %s",
                trigger.organisation_id,
                trigger.public_id,
                trigger.kind,
                trigger.node_id,
                message,
            )
        else:
            message = scrub(f"{type(error).__name__}: {error}", secrets)[:2000]
            logger.warning(
                "trigger %s (%s) of organisation %s failed: %s",
                trigger.public_id,
                trigger.kind,
                trigger.organisation_id,
                message,
            )
        retry = poll_interval_seconds(trigger.config) if trigger.kind != TriggerKind.SCHEDULE else 60
        Trigger.objects.filter(id=trigger.id).update(
            last_error=message,
            last_polled_at=now,
            next_run_at=now + max(ERROR_RETRY, timedelta(seconds=retry)),
        )
        observe("poller_errors", kind=str(trigger.kind))
        return False


def _safe_secrets(trigger: Trigger) -> dict[str, object]:
    try:
        return trigger_secrets(trigger)
    except Exception:
        return {}


def lease_token(trigger: Trigger) -> datetime | None:
    """The fencing token of the lease under which `trigger` was picked: when its holder acquired it (each
    takeover sets a new one). Read from the lease loaded with the trigger (`due_trigger` loads it)."""
    try:
        return trigger.lease.acquired_at
    except Trigger.lease.RelatedObjectDoesNotExist:
        return None


def schedule_fire_due(*, trigger: Trigger, owner: str, now: datetime, token: datetime | None = None) -> bool:
    """Fires the schedule's due fire time once; fire times missed while no launch process ran are folded
    into one run (the latest), and the next run is the first fire time after now.

    `token` is the fencing token of the lease `owner` held when it picked the trigger (default: the lease
    loaded with `trigger`). Returns True if this call fired; False if the schedule is not due, another
    process already fired this time, or `owner` no longer holds that lease (it was taken over, or taken
    over and given back: a stalled holder must not fire a tick chosen under a lease it lost).
    """
    due = trigger.next_run_at
    if due is None or due > now:
        return False
    token = token or lease_token(trigger)
    if token is None:
        return False
    try:
        schedule = schedule_from_config(trigger.config)
    except ScheduleError as error:
        Trigger.objects.filter(id=trigger.id).update(
            last_error=str(error), next_run_at=None, last_polled_at=now
        )
        return False
    fire_at, missed = latest_due(schedule, due, now)
    following = next_fire_after(schedule, max(fire_at, now))
    trigger_data = {
        "__node_id": trigger.node_id,
        "triggered_at": fire_at.isoformat(),
        "scheduled_for": fire_at.isoformat(),
        "fired_at": now.isoformat(),
        "schedule_mode": str(first(trigger.config, "mode", default="cron")),
        "cron": schedule.expression,
        "timezone": schedule.zone.key,
        "missed": missed,
    }
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    _FENCED_ADVANCE,
                    {
                        "trigger": trigger.id,
                        "owner": owner,
                        "token": token,
                        "due": due,
                        "following": following,
                        "now": now,
                    },
                )
                if cursor.rowcount != 1:
                    logger.info(
                        "trigger %s: not fired by %s (its lease or the due time changed meanwhile)",
                        trigger.public_id,
                        owner,
                    )
                    return False
            fire = ScheduleFire.objects.create(
                trigger=trigger, fire_at=fire_at, fired_at=now, owner=owner, missed=missed
            )
            accepted = execution_gateway().accept(
                trigger=trigger, trigger_data=trigger_data, idempotency_key=f"schedule:{fire_at.isoformat()}"
            )
            fire.execution_id = accepted.execution_id
            fire.save(update_fields=["execution_id"])
    except IntegrityError as error:
        name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
        if name != "launch_schedule_fire_once":
            raise
        # Someone fired this time already (a holder whose lease we took over, still finishing its tick).
        Trigger.objects.filter(id=trigger.id, next_run_at=due).update(next_run_at=following)
        return False
    return True


def poller_run(*, trigger: Trigger, now: datetime) -> int:
    """Polls once and fires one execution per new item; returns how many executions were started."""
    secrets = trigger_secrets(trigger)
    version = trigger.cursor_version
    interval = timedelta(seconds=poll_interval_seconds(trigger.config))
    result: PollResult = poller_for(trigger.kind).poll(
        trigger=trigger, config=trigger.config, secrets=secrets, cursor=trigger.cursor, now=now
    )
    committed = False
    started = 0
    try:
        with transaction.atomic():
            moved = Trigger.objects.filter(id=trigger.id, cursor_version=version).update(
                cursor=result.cursor,
                cursor_version=version + 1,
                last_polled_at=now,
                last_error="",
                next_run_at=now + interval,
                **({"last_fired_at": now} if result.events else {}),
            )
            if not moved:
                raise CursorMoved(trigger.public_id)
            gateway = execution_gateway()
            for event in result.events:
                accepted = gateway.accept(
                    trigger=trigger,
                    trigger_data={"__node_id": trigger.node_id, **event.data},
                    idempotency_key=f"{trigger.kind}:{event.key}" if event.key else None,
                )
                started += accepted.created
        committed = True
    except CursorMoved:
        logger.info("trigger %s: cursor moved by another process; dropping this poll", trigger.public_id)
        return 0
    finally:
        result.finish(committed)
    return started
