"""Geometry of the executions chart: runs per day stacked by outcome, and the mean duration as a line.

Drawn as inline SVG by the template (no chart library, nothing from a CDN).
"""

from __future__ import annotations

from dataclasses import dataclass

from flomation.editor.formatting import format_duration_ms
from flomation.editor.gateway.executions import DayStats

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 720, 220, 40, 28, 12, 48
STACK = ("succeeded", "failed", "timed_out", "cancelled", "running", "pending", "claimed", "suspended")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    state: str
    count: int
    day: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    line: str  # SVG points of the mean-duration line
    points: list[tuple[float, float, str]]
    labels: list[tuple[float, str]]
    max_runs: int
    max_ms: int
    plot_bottom: float
    plot_top: float
    left: int
    right: float
    total_runs: int


def build(days: list[DayStats]) -> Chart:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    max_runs = max([d.total for d in days] + [1])
    max_ms = max([d.mean_ms for d in days] + [1])
    bars: list[Bar] = []
    points: list[tuple[float, float, str]] = []
    labels: list[tuple[float, str]] = []
    every = max(1, len(days) // 7)
    last = len(days) - 1
    for index, day in enumerate(days):
        x = LEFT + index * slot
        y = float(HEIGHT - BOTTOM)
        for state in sorted(day.counts, key=lambda s: STACK.index(s) if s in STACK else len(STACK)):
            height = plot_h * day.counts[state] / max_runs
            y -= height
            bars.append(
                Bar(x + slot * 0.15, y, slot * 0.7, height, state, day.counts[state], day.day.isoformat())
            )
        if day.durations_ms:
            cy = HEIGHT - BOTTOM - plot_h * day.mean_ms / max_ms
            points.append(
                (x + slot / 2, cy, f"{day.day.isoformat()}: mean {format_duration_ms(day.mean_ms)}")
            )
        # Counted back from the last day, so the axis always ends with the newest day (today by default).
        if (last - index) % every == 0:
            labels.append((x + slot / 2, day.day.strftime("%d %b")))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        line=" ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points),
        points=points,
        labels=labels,
        max_runs=max_runs,
        max_ms=max_ms,
        plot_bottom=HEIGHT - BOTTOM,
        plot_top=TOP,
        left=LEFT,
        right=WIDTH - RIGHT,
        total_runs=sum(d.total for d in days),
    )
