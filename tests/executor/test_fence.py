"""The fence: once it turns false no further node starts, whoever has not yet set the cancel event."""

from __future__ import annotations

import math
import time

from conftest import load_fixture, run

from flomation.executor.lease import lease_file_fence


def test_no_node_starts_once_the_fence_turns_false():
    asked: list[bool] = []

    def fence() -> bool:
        asked.append(True)
        return len(asked) <= 2  # the trigger and the first node start; nothing after

    result, events = run(load_fixture("flomation_example.json"), fence=fence)
    assert result.status == "cancelled"
    assert len(events.ran()) <= 2
    assert len(asked) >= 3


def test_a_sleeping_node_stops_when_the_fence_turns_false_and_the_next_node_never_starts():
    deadline = time.monotonic() + 0.3
    started = time.monotonic()
    result, events = run(load_fixture("sleep.json"), fence=lambda: time.monotonic() < deadline)
    assert time.monotonic() - started < 3
    assert result.status == "cancelled"
    assert "after" not in events.ran()


def test_a_fence_that_holds_changes_nothing():
    result, _ = run(load_fixture("flomation_example.json"), fence=lambda: True)
    assert result.status == "succeeded"


def test_the_lease_file_fence_follows_the_file_and_keeps_the_last_deadline_it_read(tmp_path):
    path = tmp_path / "lease"
    fence = lease_file_fence(path)
    assert fence() is True  # no file yet: no limit
    path.write_text(repr(time.monotonic() + 60))
    assert fence() is True
    path.write_text(repr(time.monotonic() - 1))
    assert fence() is False
    path.write_text("garbage")
    assert fence() is False
    path.write_text(repr(math.inf))
    assert fence() is True
