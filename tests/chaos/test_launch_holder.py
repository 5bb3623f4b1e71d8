"""Three launch processes share a schedule that fires every minute; the one holding its lease is frozen
(SIGSTOP, as a paused VM would be) just before a tick and resumed after another has taken the schedule over
and fired it. The tick fires once, by the new holder; the resumed one fires nothing it no longer owns; the
next tick fires once too. Real `serve --role launch` processes, real PostgreSQL, real time."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from flomation.core.models import Execution
from flomation.launch.models import ScheduleFire, TriggerLease
from tests.launch.conftest import World, trigger_node
from tests.runner.conftest import wait_until
from tests.support.servers import serve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.chaos]

LEASE_SECONDS = 3


def _seconds_to_next_minute() -> float:
    now = datetime.now(UTC)
    return 60 - now.second - now.microsecond / 1e6


def test_a_frozen_schedule_holder_is_taken_over_and_each_tick_fires_once(tmp_path):
    world = World()
    world.deploy(trigger_node("trigger/schedule", {"cron": "* * * * *", "timezone": "UTC"}))
    trigger = world.trigger()
    env = {"LAUNCH_LEASE_SECONDS": str(LEASE_SECONDS), "LOG_LEVEL": "INFO"}
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(serve("launch", tmp_path=tmp_path, env=env)) for _ in range(3)]
        by_pid = {server.process.pid: server for server in servers}
        wait_until(lambda: TriggerLease.objects.filter(trigger=trigger).exists(), timeout=20)
        if _seconds_to_next_minute() < 8:  # room to freeze the holder before the tick
            time.sleep(_seconds_to_next_minute() + 1)
        wait_until(lambda: _seconds_to_next_minute() < 4, timeout=60, interval=0.1)

        lease = TriggerLease.objects.get(trigger=trigger)
        frozen = by_pid[int(lease.owner.split(":")[1])]
        os.killpg(frozen.process.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        tick = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
        try:
            wait_until(
                lambda: ScheduleFire.objects.filter(trigger=trigger, fire_at=tick).exists(), timeout=30
            )
            taken_over_in = time.monotonic() - frozen_at
            time.sleep(2)
        finally:
            os.killpg(frozen.process.pid, signal.SIGCONT)
        resumed_at = time.monotonic()
        # The resumed process renews nothing it lost; give it time to act on what it had chosen.
        time.sleep(LEASE_SECONDS + 2)
        next_tick = tick + timedelta(minutes=1)
        wait_until(
            lambda: ScheduleFire.objects.filter(trigger=trigger, fire_at=next_tick).exists(), timeout=75
        )
        time.sleep(2)
        alive = [server.process.poll() is None for server in servers]

    fires = list(
        ScheduleFire.objects.filter(trigger=trigger).order_by("fire_at").values_list("fire_at", "owner")
    )
    frozen_owner = lease.owner
    by_frozen_after = [owner for fire_at, owner in fires if owner == frozen_owner and fire_at >= tick]
    executions = Execution.objects.filter(workflow=world.workflow)
    ticks = [fire_at for fire_at, _ in fires]
    print(
        f"\n[chaos] launch holder frozen before the {tick:%H:%M} tick: taken over and fired in "
        f"{taken_over_in:.1f} s (lease {LEASE_SECONDS} s), resumed after {resumed_at - frozen_at:.1f} s; "
        f"fires {len(fires)}, duplicate ticks {len(ticks) - len(set(ticks))}, "
        f"fires by the frozen holder after it lost the lease {len(by_frozen_after)}, "
        f"executions {executions.count()}"
    )
    assert all(alive)
    assert len(ticks) == len(set(ticks))  # each tick fired once
    assert tick in ticks and next_tick in ticks  # none lost
    assert by_frozen_after == []
    [taken] = [owner for fire_at, owner in fires if fire_at == tick]
    assert taken != frozen_owner
    assert executions.count() == len(fires)
    assert sorted(e.trigger_data["scheduled_for"] for e in executions) == sorted(t.isoformat() for t in ticks)
