"""How the editor writes quantities for people."""

from __future__ import annotations


def format_duration_ms(ms: float) -> str:
    """17 ms, 4.2 s, 3 min 5 s, 2 h 4 min: the unit a person reads at a glance."""
    if ms < 1000:
        return f"{round(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
