"""Query parameters read the same way everywhere: whole numbers within the database's range and dates with
a sane UTC offset. A value that does not fit is the caller's mistake, answered 400 with a sentence that
names the parameter, never passed on to the database to fail there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions

# PostgreSQL's bigint, the widest integer column (ids, counters): no number past it can match a row.
BIGINT_MIN, BIGINT_MAX = connection.ops.integer_field_range("BigIntegerField")
# The UTC offsets a date may carry. Real zones lie within -12:00..+14:00; ±18:00 is the range ISO 8601
# libraries accept (java.time, PostgreSQL's own input is narrower still at ±15:59).
MAX_UTC_OFFSET = timedelta(hours=18)


def column_range(model: type[Model], field_name: str) -> tuple[int, int]:
    """The smallest and largest value the integer column `model.field_name` can hold."""
    field = model._meta.get_field(field_name)
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    return low, high


def whole_number(value: str, *, name: str, minimum: int = 0, maximum: int = BIGINT_MAX) -> int:
    """`value` as an int within [minimum, maximum]; ValidationError naming `name` otherwise.

    Only ASCII digits (with an optional minus sign when `minimum` < 0) are accepted: not '1.0', '1e3',
    ' 7' or other scripts' digits, which int() would take or str.isdigit() would pass.
    """
    text = value[1:] if minimum < 0 and value.startswith("-") else value
    number = int(value) if text.isascii() and text.isdigit() and len(text) <= 20 else None
    if number is None or not minimum <= number <= maximum:
        raise exceptions.ValidationError({name: f"Give a whole number from {minimum} to {maximum}."})
    return number


def query_int(
    params: Mapping[str, Any], name: str, *, minimum: int = 0, maximum: int = BIGINT_MAX
) -> int | None:
    """The query parameter `name` as a bounded whole number, None when it is absent or empty."""
    value = params.get(name)
    if value in (None, ""):
        return None
    return whole_number(str(value), name=name, minimum=minimum, maximum=maximum)


def query_datetime(params: Mapping[str, Any], name: str) -> datetime | None:
    """The query parameter `name` as an aware datetime in UTC, None when it is absent or empty.

    A value without an offset is taken as UTC. Refused with a ValidationError naming `name`: what is not
    an ISO 8601 date and time, a date that does not exist (February 30th), an offset beyond ±18:00, and a
    moment that falls outside the years 1 to 9999 once in UTC.
    """
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        moment = parse_datetime(str(value))
    except ValueError:  # well formed but impossible, e.g. month 13 or an offset of 24 hours
        moment = None
    if moment is None:
        raise exceptions.ValidationError(
            {name: "Give an ISO 8601 date and time, e.g. 2026-01-31T09:30:00+01:00."}
        )
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise exceptions.ValidationError(
            {name: "The UTC offset is out of range; give one from -18:00 to +18:00, or Z."}
        )
    if offset is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise exceptions.ValidationError(
            {name: "Give a date and time between the years 1 and 9999."}
        ) from None
