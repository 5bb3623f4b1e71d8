"""How the editor writes durations, the executions chart's day axis, and the site icon."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from flomation.editor.chart import build
from flomation.editor.formatting import format_duration_ms
from flomation.editor.gateway.executions import DayStats


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (17, "17 ms"),
        (999.6, "1000 ms"),
        (1534, "1.5 s"),
        (42_000, "42 s"),
        (185_000, "3 min 5 s"),
        (120_000, "2 min"),
        (7_440_000, "2 h 4 min"),
    ],
)
def test_a_duration_is_written_in_the_unit_a_person_reads(ms, shown):
    assert format_duration_ms(ms) == shown


@pytest.mark.parametrize("length", [7, 14, 30])
def test_the_charts_axis_ends_with_the_newest_day(length):
    today = date(2026, 12, 4)
    days = [DayStats(today - timedelta(days=length - 1 - n)) for n in range(length)]
    labels = [text for _, text in build(days).labels]
    assert labels[-1] == "04 Dec"


def test_the_executions_list_shows_a_17_ms_run_as_17_ms(team, browser_for, hello):
    from flomation.core import models as m
    from flomation.core.services.queues import queue_shared

    start = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
    m.Execution.objects.create(
        workflow=hello,
        organisation=team.organisation,
        state="succeeded",
        trigger_type="manual",
        started_at=start,
        finished_at=start + timedelta(milliseconds=17),
        revision=hello.revisions.first(),
        queue=queue_shared(),
    )
    page = browser_for("owner").get("/executions").content.decode()
    assert "17 ms" in page and "0 minutes" not in page


@pytest.mark.django_db
def test_every_origin_answers_favicon_ico_with_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("editor/favicon.svg")
    assert client.get(response["Location"]).status_code == 200
