"""The runner's own reckoning of its leases (no Django, no processes): a job is lost once its lease could
have run out unrenewed, and stays lost."""

from __future__ import annotations

import time

from flomation.runner.jobs import Job, heartbeat_interval, lease_margin


def claimed(lease_seconds: int, sent_ago: float) -> Job:
    data = {"id": "e1", "lease_token": "t", "attempt": 1, "flow": {}, "lease_seconds": lease_seconds}
    return Job.from_claim(data, time.monotonic() - sent_ago)


def test_a_lease_runs_from_when_the_claim_was_sent_less_a_margin():
    job = claimed(30, sent_ago=0)
    assert 30 - lease_margin(30) - 0.5 < job.lease_left() <= 30 - lease_margin(30)
    assert not job.lost
    assert claimed(30, sent_ago=29.5).lost


def test_a_renewal_extends_the_lease_but_never_brings_a_lost_job_back():
    job = claimed(2, sent_ago=1.5)
    job.lease_granted(time.monotonic(), 2)
    assert not job.lost and job.lease_left() > 1.5
    job.lease_granted(time.monotonic() - 5, 2)  # a heartbeat sent before a long freeze
    assert job.lost
    job.lease_granted(time.monotonic(), 2)
    assert job.lost


def test_a_job_the_api_gave_no_lease_length_is_never_lost_by_reckoning():
    job = claimed(0, sent_ago=3600)
    assert not job.lost
    job.lost = True
    assert job.lost


def test_the_heartbeat_comes_sooner_when_a_lease_is_short():
    assert heartbeat_interval([], 0.5, 5.0) == 5.0
    assert heartbeat_interval([claimed(30, 0)], 0.5, 5.0) == 0.5
    assert heartbeat_interval([claimed(1, 0.6)], 0.5, 5.0) < 0.2
