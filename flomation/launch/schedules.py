"""Cron schedules in an IANA time zone, daylight-saving changes included. No Django here.

Wall-clock semantics, as Vixie cron has them:
* a time that falls in a spring-forward gap (02:30 when clocks jump from 02:00 to 03:00) fires once, at the
  moment the clocks jump, for expressions with a fixed hour; expressions that run every hour (`*` hours)
  simply have no runs in the missing hour;
* a time that happens twice at fall-back (01:30 twice) fires once, at its first occurrence, for expressions
  with a fixed hour; expressions that run every hour run in both passes of the repeated hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from flomation.launch.config import as_int, as_list, first

DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


class ScheduleError(ValueError):
    """The schedule's configuration cannot be turned into fire times; the message says what to fix."""


@dataclass(frozen=True)
class Schedule:
    expression: str
    zone: ZoneInfo

    @property
    def hourly(self) -> bool:
        """True when the expression runs in every hour (its hour field is `*` or `*/1`)."""
        return self.expression.split()[1] in {"*", "*/1"}


def schedule_from_config(config: dict[str, Any]) -> Schedule:
    """A five-field `cron` (with `timezone`), or the editor's `mode` interval/daily/weekly turned into one."""
    zone_name = str(first(config, "timezone", "time_zone", default="UTC")).strip()
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone {zone_name!r}; use an IANA name such as Europe/London"
        ) from None
    expression = str(first(config, "cron", "expression", default="")).strip()
    if not expression:
        expression = _expression_from_mode(config)
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise ScheduleError(
            f"{expression!r} is not a five-field cron expression (minute hour day-of-month month day-of-week)"
        )
    return Schedule(expression=expression, zone=zone)


def _expression_from_mode(config: dict[str, Any]) -> str:
    mode = str(first(config, "mode", default="interval")).lower()
    if mode == "interval":
        every = as_int(config.get("interval"), 1, minimum=1)
        unit = str(first(config, "unit", default="minutes")).lower().rstrip("s")
        if unit == "minute" and 60 % every == 0:
            return f"*/{every} * * * *" if every > 1 else "* * * * *"
        if unit == "hour" and 24 % every == 0:
            return f"0 */{every} * * *"
        if unit == "day" and every == 1:
            return "0 0 * * *"
        raise ScheduleError(
            f"an interval of {every} {unit}(s) does not divide the hour or day evenly; use a cron expression"
        )
    time_of_day = str(first(config, "time_of_day", default="00:00"))
    try:
        hour, minute = (int(part) for part in time_of_day.split(":")[:2])
    except ValueError:
        raise ScheduleError(f"time_of_day {time_of_day!r} is not HH:MM") from None
    if mode == "daily":
        return f"{minute} {hour} * * *"
    if mode == "weekly":
        days = [DAY_NAMES.get(day[:3].lower(), day) for day in as_list(config.get("days_of_week"))]
        return f"{minute} {hour} * * {','.join(str(day) for day in days) or '1'}"
    raise ScheduleError(f"unknown schedule mode {mode!r}; use interval, daily, weekly or a cron expression")


def _instants(naive: datetime, schedule: Schedule) -> list[datetime]:
    """The UTC instants at which wall time `naive` fires (none, one, or two in a repeated hour)."""
    zone = schedule.zone
    early = naive.replace(tzinfo=zone, fold=0)
    late = naive.replace(tzinfo=zone, fold=1)
    if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:  # in a gap: does not exist
        if schedule.hourly:
            return []
        return [_gap_end(late.astimezone(UTC), early.astimezone(UTC), zone)]
    if early.utcoffset() != late.utcoffset():  # happens twice
        first_pass = early.astimezone(UTC)
        return [first_pass, late.astimezone(UTC)] if schedule.hourly else [first_pass]
    return [early.astimezone(UTC)]


def _gap_end(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after a spring-forward jump, between `low` (before it) and `high` (after it)."""
    offset_before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == offset_before:
            low = middle
        else:
            high = middle
    return high.replace(second=0, microsecond=0)


def next_fire_after(schedule: Schedule, after: datetime) -> datetime:
    """The first fire time strictly after `after` (an aware datetime), in UTC."""
    after = after.astimezone(UTC)
    near_change = _offset_changes_near(schedule.zone, after)
    # Near a change, start two hours back in wall time so a repeated hour's second pass is not skipped.
    start = (after.astimezone(schedule.zone) - (_WINDOW if near_change else timedelta())).replace(tzinfo=None)
    iterator = croniter(schedule.expression, start)
    best: datetime | None = None
    for _ in range(100_000):
        naive: datetime = iterator.get_next(datetime)
        for instant in _instants(naive, schedule):
            if instant > after and (best is None or instant < best):
                best = instant
        if best is not None:
            # Away from an offset change later wall times map to later instants; near one, look 3 hours on.
            margin = (
                _WINDOW + timedelta(hours=1) if _offset_changes_near(schedule.zone, best) else timedelta()
            )
            if naive >= best.astimezone(schedule.zone).replace(tzinfo=None) + margin:
                return best
    if best is None:
        raise ScheduleError(f"{schedule.expression!r} never fires")
    return best


_WINDOW = timedelta(hours=2)


def _offset_changes_near(zone: ZoneInfo, moment: datetime) -> bool:
    span = _WINDOW + timedelta(hours=1)
    return (moment - span).astimezone(zone).utcoffset() != (moment + span).astimezone(zone).utcoffset()


def next_fire_times(schedule: Schedule, after: datetime, count: int = 5) -> list[datetime]:
    times: list[datetime] = []
    moment = after
    for _ in range(count):
        moment = next_fire_after(schedule, moment)
        times.append(moment)
    return times


def latest_due(schedule: Schedule, due: datetime, now: datetime, limit: int = 10_000) -> tuple[datetime, int]:
    """The latest fire time at or before `now`, starting from the first due one, and how many earlier fire
    times it folds in (missed while no launch process was running)."""
    latest, missed = due, 0
    for _ in range(limit):
        following = next_fire_after(schedule, latest)
        if following > now:
            break
        latest, missed = following, missed + 1
    return latest, missed
