"""The runner's own metrics endpoint: off unless bound, and serving its slots and results when it is."""

from __future__ import annotations

import requests

from flomation.runner.metrics import runner_metrics_start
from tests.support.servers import free_port


def test_the_runner_serves_its_slots_and_results_on_the_address_it_was_given():
    port = free_port()
    count = runner_metrics_start(slots=4, slots_in_use=lambda: 3, waiting=lambda: 7, bind=f"127.0.0.1:{port}")
    assert count is not None
    count("succeeded")
    count("succeeded")
    count("failed")
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "flomation_runner_slots 4.0" in text and "flomation_runner_slots_in_use 3.0" in text
    assert "flomation_runner_claimed_waiting 7.0" in text
    assert 'flomation_runner_executions_total{state="succeeded"} 2.0' in text
    assert 'flomation_runner_executions_total{state="failed"} 1.0' in text


def test_without_an_address_the_runner_serves_no_metrics_and_a_bad_one_is_reported(caplog):
    assert runner_metrics_start(slots=1, slots_in_use=lambda: 0, waiting=lambda: 0, bind="") is None
    assert (
        runner_metrics_start(slots=1, slots_in_use=lambda: 0, waiting=lambda: 0, bind="localhost:http")
        is None
    )
    assert "must be host:port" in caplog.text
