"""Cron schedules in IANA time zones, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flomation.launch.schedules import (
    Schedule,
    ScheduleError,
    latest_due,
    next_fire_after,
    next_fire_times,
    schedule_from_config,
)

NEW_YORK = ZoneInfo("America/New_York")


def local(times: list[datetime], zone: ZoneInfo = NEW_YORK) -> list[str]:
    return [moment.astimezone(zone).strftime("%m-%d %H:%M%z") for moment in times]


def test_a_time_skipped_by_spring_forward_fires_once_when_the_clocks_jump():
    times = next_fire_times(Schedule("30 2 * * *", NEW_YORK), datetime(2024, 3, 9, 12, tzinfo=UTC), 3)
    assert local(times) == ["03-10 03:00-0400", "03-11 02:30-0400", "03-12 02:30-0400"]


def test_a_time_repeated_by_fall_back_fires_once():
    times = next_fire_times(Schedule("30 1 * * *", NEW_YORK), datetime(2024, 11, 2, 12, tzinfo=UTC), 2)
    assert local(times) == ["11-03 01:30-0400", "11-04 01:30-0500"]


def test_an_every_half_hour_schedule_runs_in_both_passes_of_the_repeated_hour():
    times = next_fire_times(Schedule("*/30 * * * *", NEW_YORK), datetime(2024, 11, 3, 4, 50, tzinfo=UTC), 5)
    assert local(times) == [
        "11-03 01:00-0400",
        "11-03 01:30-0400",
        "11-03 01:00-0500",
        "11-03 01:30-0500",
        "11-03 02:00-0500",
    ]
    assert all(later > earlier for earlier, later in zip(times, times[1:], strict=False))


def test_an_hourly_schedule_has_no_runs_in_the_missing_hour():
    times = next_fire_times(Schedule("0 * * * *", NEW_YORK), datetime(2024, 3, 10, 5, 30, tzinfo=UTC), 3)
    assert local(times) == ["03-10 01:00-0500", "03-10 03:00-0400", "03-10 04:00-0400"]


def test_weekday_mornings_follow_the_local_clock_across_the_change():
    times = next_fire_times(
        Schedule("0 9 * * 1-5", ZoneInfo("Europe/London")), datetime(2024, 3, 28, 12, tzinfo=UTC), 3
    )
    assert [t.isoformat() for t in times] == [
        "2024-03-29T09:00:00+00:00",
        "2024-04-01T08:00:00+00:00",
        "2024-04-02T08:00:00+00:00",
    ]


def test_the_editors_modes_become_cron_expressions():
    assert (
        schedule_from_config({"mode": "interval", "interval": "15", "unit": "minutes"}).expression
        == "*/15 * * * *"
    )
    assert schedule_from_config({"mode": "daily", "time_of_day": "07:45"}).expression == "45 7 * * *"
    weekly = schedule_from_config(
        {
            "mode": "weekly",
            "time_of_day": "09:00",
            "days_of_week": ["monday", "friday"],
            "timezone": "Asia/Tokyo",
        }
    )
    assert weekly.expression == "0 9 * * 1,5" and weekly.zone.key == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("config", "message"),
    [({"cron": "61 * * * *"}, "five-field"), ({"cron": "* * * *"}, "five-field"), ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "time zone"),
     ({"mode": "interval", "interval": 7, "unit": "minutes"}, "evenly")],
)  # fmt: skip
def test_a_schedule_that_cannot_work_is_refused_with_a_clear_message(config, message):
    with pytest.raises(ScheduleError, match=message):
        schedule_from_config(config)


def test_missed_fire_times_fold_into_the_latest_one():
    schedule = Schedule("*/10 * * * *", ZoneInfo("UTC"))
    due = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    latest, missed = latest_due(schedule, due, datetime(2024, 5, 1, 10, 47, tzinfo=UTC))
    assert latest == datetime(2024, 5, 1, 10, 40, tzinfo=UTC) and missed == 4
    assert next_fire_after(schedule, latest) == datetime(2024, 5, 1, 10, 50, tzinfo=UTC)
