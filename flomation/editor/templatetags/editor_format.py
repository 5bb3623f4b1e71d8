"""Template filters for the editor's pages."""

from __future__ import annotations

from datetime import datetime

from django import template

from flomation.editor.formatting import format_duration_ms

register = template.Library()


@register.filter
def duration(started: datetime | None, finished: datetime | None) -> str:
    """`{{ started|duration:finished }}`; an em dash when either end is missing."""
    if started is None or finished is None:
        return "—"
    return format_duration_ms(max((finished - started).total_seconds() * 1000, 0))


@register.filter
def milliseconds(value: float | None) -> str:
    """`{{ 1534|milliseconds }}` is "1.5 s"."""
    return "—" if value is None else format_duration_ms(value)
