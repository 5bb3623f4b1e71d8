"""Go reference-time layouts (``2006-01-02 15:04:05``), which Flomation flows use for dates."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

# Longest first, so "January" wins over "Jan" and "2006" over "2".
_TOKENS = (
    "January",
    "Monday",
    "Z07:00",
    "-07:00",
    "Z0700",
    "-0700",
    ".000000",
    ".000",
    "2006",
    "Jan",
    "Mon",
    "MST",
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "15",
    "PM",
    "pm",
    "_2",
    "1",
    "2",
    "3",
    "4",
    "5",
)
_STRPTIME = {
    "January": "%B",
    "Monday": "%A",
    "Z07:00": "%z",
    "-07:00": "%z",
    "Z0700": "%z",
    "-0700": "%z",
    ".000000": ".%f",
    ".000": ".%f",
    "2006": "%Y",
    "Jan": "%b",
    "Mon": "%a",
    "MST": "%Z",
    "01": "%m",
    "02": "%d",
    "03": "%I",
    "04": "%M",
    "05": "%S",
    "06": "%y",
    "15": "%H",
    "PM": "%p",
    "pm": "%p",
    "_2": "%d",
    "1": "%m",
    "2": "%d",
    "3": "%I",
    "4": "%M",
    "5": "%S",
}


def _tokens(layout: str) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    i = 0
    while i < len(layout):
        for token in _TOKENS:
            if layout.startswith(token, i):
                out.append((True, token))
                i += len(token)
                break
        else:
            out.append((False, layout[i]))
            i += 1
    return out


def _offset(moment: datetime, colon: bool, zulu: bool) -> str:
    delta = moment.utcoffset()
    seconds = int(delta.total_seconds()) if delta is not None else 0
    if zulu and seconds == 0:
        return "Z"
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def format_go(moment: datetime, layout: str) -> str:
    parts = []
    for is_token, text in _tokens(layout):
        if not is_token:
            parts.append(text)
            continue
        hour12 = moment.hour % 12 or 12
        value = {
            "January": moment.strftime("%B"),
            "Monday": moment.strftime("%A"),
            "Jan": moment.strftime("%b"),
            "Mon": moment.strftime("%a"),
            "MST": moment.tzname() or "UTC",
            "2006": f"{moment.year:04d}",
            "06": f"{moment.year % 100:02d}",
            "01": f"{moment.month:02d}",
            "1": str(moment.month),
            "02": f"{moment.day:02d}",
            "2": str(moment.day),
            "_2": f"{moment.day:>2}",
            "15": f"{moment.hour:02d}",
            "03": f"{hour12:02d}",
            "3": str(hour12),
            "04": f"{moment.minute:02d}",
            "4": str(moment.minute),
            "05": f"{moment.second:02d}",
            "5": str(moment.second),
            "PM": "PM" if moment.hour >= 12 else "AM",
            "pm": "pm" if moment.hour >= 12 else "am",
            ".000": f".{moment.microsecond // 1000:03d}",
            ".000000": f".{moment.microsecond:06d}",
            "Z07:00": _offset(moment, True, True),
            "-07:00": _offset(moment, True, False),
            "Z0700": _offset(moment, False, True),
            "-0700": _offset(moment, False, False),
        }[text]
        parts.append(value)
    return "".join(parts)


def go_to_strptime(layout: str) -> str:
    return "".join(
        _STRPTIME[text] if is_token else text.replace("%", "%%") for is_token, text in _tokens(layout)
    )
