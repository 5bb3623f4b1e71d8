"""The launch loop under leases: racing processes fire each schedule tick once, a crashed holder's triggers
are taken over after the TTL, a tick missed during downtime fires once on recovery."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from django.db import connection

from flomation.launch.loops import LaunchLoop
from flomation.launch.models import ScheduleFire, Trigger, TriggerLease
from flomation.launch.services.leases import (
    due_trigger,
    lease_ttl,
    leases_acquire,
    leases_release,
)
from flomation.launch.services.timed import schedule_fire_due
from tests.launch.conftest import trigger_node

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
LEASE_TTL = lease_ttl()  # LAUNCH_LEASE_SECONDS: two minutes by default


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def every_minute(world) -> Trigger:
    world.deploy(trigger_node("trigger/schedule", {"cron": "* * * * *", "timezone": "Europe/Paris"}))
    Trigger.objects.filter(id=world.trigger().id).update(next_run_at=T0)
    return world.trigger()


def in_threads(*targets) -> None:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target) -> None:
        try:
            barrier.wait()
            target()
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors


def test_three_racing_launch_loops_fire_each_tick_exactly_once(live_world):
    trigger = every_minute(live_world)
    clock = Clock(T0)
    loops = [LaunchLoop(owner=name, now=clock) for name in ("a", "b", "c")]
    for _ in range(5):
        for _ in range(3):  # several rounds per tick: only a due trigger does anything
            in_threads(*(loop.handle_one for loop in loops))
        clock.advance(minutes=1)
    fires = list(ScheduleFire.objects.filter(trigger=trigger).order_by("fire_at"))
    assert [fire.fire_at for fire in fires] == [T0 + timedelta(minutes=n) for n in range(5)]
    assert len({fire.owner for fire in fires}) == 1  # the lease kept one owner
    assert len(live_world.executions()) == 5
    assert sorted(str(e.id) for e in live_world.executions()) == sorted(str(f.execution_id) for f in fires)


def test_processes_that_all_believe_they_hold_the_lease_still_fire_once(live_world):
    trigger = every_minute(live_world)
    TriggerLease.objects.create(trigger=trigger, owner="a", acquired_at=T0, expires_at=T0 + LEASE_TTL)
    results: list[bool] = []
    in_threads(
        *(
            lambda name=name: results.append(
                schedule_fire_due(trigger=Trigger.objects.get(id=trigger.id), owner=name, now=T0, token=T0)
            )
            for name in "abc"
        )
    )
    assert sorted(results) == [False, False, True]
    assert ScheduleFire.objects.get(trigger=trigger).owner == "a"
    assert ScheduleFire.objects.filter(trigger=trigger).count() == 1 and len(live_world.executions()) == 1
    assert Trigger.objects.get(id=trigger.id).next_run_at == T0 + timedelta(minutes=1)


def test_a_crashed_holders_trigger_is_taken_over_once_its_lease_expires(world):
    trigger = every_minute(world)
    clock = Clock(T0)
    crashed, survivor = LaunchLoop(owner="crashed", now=clock), LaunchLoop(owner="survivor", now=clock)
    crashed.handle_one()
    assert TriggerLease.objects.get(trigger=trigger).owner == "crashed" and len(world.executions()) == 1
    # `crashed` stops renewing. Until its lease expires the survivor leaves the trigger alone.
    clock.advance(seconds=119)
    survivor.handle_one()
    assert TriggerLease.objects.get(trigger=trigger).owner == "crashed" and len(world.executions()) == 1
    clock.advance(seconds=1)  # TTL reached
    survivor.handle_one()
    lease = TriggerLease.objects.get(trigger=trigger)
    assert lease.owner == "survivor" and lease.expires_at == clock.now + LEASE_TTL
    fires = ScheduleFire.objects.filter(trigger=trigger).order_by("fire_at")
    assert [(f.owner, f.fire_at, f.missed) for f in fires] == [
        ("crashed", T0, 0),
        ("survivor", T0 + timedelta(minutes=2), 1),
    ]


def test_each_tick_renews_the_holders_lease(world):
    trigger = every_minute(world)
    clock = Clock(T0)
    loop = LaunchLoop(owner="a", now=clock)
    for _ in range(4):
        loop.handle_one()
        assert TriggerLease.objects.get(trigger=trigger).expires_at == clock.now + LEASE_TTL
        clock.advance(seconds=50)
    assert TriggerLease.objects.get(trigger=trigger).owner == "a"


def test_ticks_missed_while_no_launch_process_ran_fire_once_on_recovery(world):
    trigger = every_minute(world)
    clock = Clock(T0 + timedelta(minutes=30, seconds=20))  # down for half an hour
    loop = LaunchLoop(owner="a", now=clock)
    while loop.handle_one():
        pass
    (fire,) = ScheduleFire.objects.filter(trigger=trigger)
    assert fire.fire_at == T0 + timedelta(minutes=30) and fire.missed == 30
    assert world.executions()[0].trigger_data["missed"] == 30
    assert Trigger.objects.get(id=trigger.id).next_run_at == T0 + timedelta(minutes=31)


def test_a_paused_schedule_is_not_leased_or_fired(world):
    trigger = every_minute(world)
    Trigger.objects.filter(id=trigger.id).update(enabled=False)
    LaunchLoop(owner="a", now=Clock(T0)).handle_one()
    assert not TriggerLease.objects.exists() and world.executions() == []


def test_a_failing_poller_shows_its_error_and_waits_before_the_next_try(
    world, tmp_path, local_servers_allowed, settings
):
    settings.GIT_ALLOW_FILE_URLS = True  # a local path, which operators must allow
    world.deploy(
        trigger_node(
            "trigger/git_poll", {"url": str(tmp_path / "missing.git"), "branch": "main", "interval": 30}
        )
    )
    clock = Clock(T0)
    Trigger.objects.filter(id=world.trigger().id).update(next_run_at=T0)
    assert LaunchLoop(owner="a", now=clock).handle_one() is True
    trigger = world.trigger()
    assert "git ls-remote failed" in trigger.last_error and trigger.last_polled_at == T0
    assert trigger.next_run_at >= T0 + timedelta(seconds=60)
    assert LaunchLoop(owner="a", now=clock).handle_one() is False  # not due again yet


def stalled_holder_and_successor(world) -> tuple[Trigger, Clock, LaunchLoop]:
    """`stalled` acquires the lease and picks the due trigger, then stops (a long GC pause, a frozen VM)
    past the lease's TTL; `successor` takes the lease over. Returns the trigger as `stalled` picked it."""
    every_minute(world)
    clock = Clock(T0)
    stalled = LaunchLoop(owner="stalled", now=clock)
    leases_acquire(owner="stalled", now=clock.now)
    picked = due_trigger(owner="stalled", now=clock.now)
    assert picked is not None and picked.lease.owner == "stalled"
    clock.advance(seconds=LEASE_TTL.total_seconds() + 1)
    successor = LaunchLoop(owner="successor", now=clock)
    leases_acquire(owner=successor.owner, now=clock.now)
    assert TriggerLease.objects.get(trigger=picked).owner == "successor"
    del stalled
    return picked, clock, successor


def test_a_stalled_holder_cannot_fire_a_tick_once_its_lease_was_taken_over(world):
    picked, clock, successor = stalled_holder_and_successor(world)
    # The successor has not fired yet: the tick the stalled holder chose is still due, so only the fence
    # stops it (without one, the successor's next fire would fold a tick that had already run).
    assert schedule_fire_due(trigger=picked, owner="stalled", now=T0) is False
    assert ScheduleFire.objects.filter(trigger=picked).count() == 0 and world.executions() == []
    successor.handle_one()
    fires = list(ScheduleFire.objects.filter(trigger=picked))
    assert [(f.owner, f.fire_at, f.missed) for f in fires] == [("successor", T0 + timedelta(minutes=2), 2)]
    assert len(world.executions()) == 1


def test_a_stalled_holder_cannot_fire_after_its_successor_folded_the_tick(world):
    picked, clock, successor = stalled_holder_and_successor(world)
    successor.handle_one()
    assert schedule_fire_due(trigger=picked, owner="stalled", now=T0) is False
    assert ScheduleFire.objects.filter(trigger=picked).count() == 1 and len(world.executions()) == 1
    assert Trigger.objects.get(id=picked.id).next_run_at == clock.now.replace(second=0) + timedelta(minutes=1)


def test_a_holder_that_lost_its_lease_and_took_it_again_cannot_fire_under_the_old_one(world):
    picked, clock, successor = stalled_holder_and_successor(world)
    leases_release(owner="successor")
    leases_acquire(owner="stalled", now=clock.now)  # a new acquisition: a new fencing token
    assert schedule_fire_due(trigger=picked, owner="stalled", now=T0) is False
    assert ScheduleFire.objects.filter(trigger=picked).count() == 0
    fresh = due_trigger(owner="stalled", now=clock.now)
    assert schedule_fire_due(trigger=fresh, owner="stalled", now=clock.now) is True
