"""Prometheus metrics of the platform, and the `/metrics` view every web role serves.

Counters and histograms are observed where things happen (execution creation and results, claims, webhook
requests, lease reclaims, poller errors); queue depth, oldest pending age and runner slots are read from
the database when scraped, so every process reports the same figures. Under `serve` (several gunicorn
workers plus the loops in the parent), values go through prometheus-client's multiprocess mode: `serve`
points PROMETHEUS_MULTIPROC_DIR at a directory of its own before any worker starts, and a scrape of any
worker sums them all. The metric objects are made on first use, after that variable is set.

`/metrics` is off (404) until METRICS_TOKEN is set; then it answers only `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import atexit
import hmac
import logging
import os
import shutil
import time
from collections.abc import Iterator
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def multiprocess_directory_prepare() -> None:
    """For `serve`, first thing: a fresh directory for this process tree's metric files (its gunicorn
    workers and its loops write there, a scrape of any worker reads them all), removed at exit."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # given by the operator: theirs to manage
        return
    directory = settings.VAR_DIR / "metrics" / str(os.getpid())
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)


@cache
def metrics() -> SimpleNamespace:
    """The process's metric objects (made on first use, so that serve's multiprocess directory applies)."""
    from prometheus_client import Counter, Histogram

    return SimpleNamespace(
        created=Counter(
            "flomation_executions_created_total", "Executions created, by trigger kind.", ["trigger_type"]
        ),
        finished=Counter(
            "flomation_executions_finished_total",
            "Executions that reached a final state (or suspended), by state and trigger kind.",
            ["state", "trigger_type"],
        ),
        claim_seconds=Histogram(
            "flomation_claim_seconds", "Time the claim statement took.", buckets=LATENCY_BUCKETS
        ),
        trigger_to_start=Histogram(
            "flomation_trigger_to_start_seconds",
            "From an execution's creation to its claim by a runner.",
            buckets=LATENCY_BUCKETS,
        ),
        webhook_seconds=Histogram(
            "flomation_webhook_request_seconds",
            "Webhook requests (launch), by the status answered.",
            ["status"],
            buckets=LATENCY_BUCKETS,
        ),
        lease_reclaims=Counter(
            "flomation_lease_reclaims_total",
            "Expired leases reclaimed, by the state the execution went to.",
            ["state"],
        ),
        poller_errors=Counter(
            "flomation_poller_errors_total", "Poller runs that failed, by trigger kind.", ["kind"]
        ),
    )


def observe(name: str, value: float = 1.0, **labels: str) -> None:
    """Counts (`value` added) or observes one metric; never lets a metrics failure break the work."""
    try:
        metric = getattr(metrics(), name)
        metric = metric.labels(**labels) if labels else metric
        if hasattr(metric, "observe"):
            metric.observe(value)
        else:
            metric.inc(value)
    except Exception:  # metrics are an aid: the request or loop goes on
        logger.debug("metric %s not recorded", name, exc_info=True)


class DatabaseCollector:
    """Figures read from the database at scrape time: queues and runners."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from flomation.core.selectors.queues import queue_metrics, runner_metrics

        depth = GaugeMetricFamily("flomation_queue_depth", "Pending executions per queue.", labels=["queue"])
        oldest = GaugeMetricFamily(
            "flomation_queue_oldest_pending_seconds",
            "Age of the oldest pending execution per queue.",
            labels=["queue"],
        )
        for row in queue_metrics():
            depth.add_metric([row.name], row.pending)
            oldest.add_metric([row.name], row.oldest_seconds)
        slots = GaugeMetricFamily(
            "flomation_runner_slots_in_use",
            "Slots in use per runner that reported in the last 5 minutes.",
            labels=["runner", "queue"],
        )
        total = GaugeMetricFamily(
            "flomation_runner_slots",
            "Slots per runner that reported in the last 5 minutes.",
            labels=["runner", "queue"],
        )
        for row in runner_metrics():
            slots.add_metric([row.name, row.queue], row.slots_in_use)
            total.add_metric([row.name, row.queue], row.slots_total)
        yield from (depth, oldest, slots, total)


def exposition() -> bytes:
    """Every metric of this deployment in Prometheus' text format."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        metrics()  # registered in the default registry of this one process
        for collector in list(REGISTRY._collector_to_names):  # noqa: SLF001 (no public iterator)
            registry.register(collector)
    # An identity-only process holds no queue table: the figures come from the processes that do.
    if settings.METRICS_DATABASE and settings.CORE_DATABASE:
        registry.register(DatabaseCollector())
    return generate_latest(registry)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    from prometheus_client import CONTENT_TYPE_LATEST

    token = settings.METRICS_TOKEN
    if not token:
        return JsonResponse({"detail": "Metrics are off: set METRICS_TOKEN to turn them on."}, status=404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        logger.warning(
            "metrics: refused a scrape without the right token from %s", request.META.get("REMOTE_ADDR")
        )
        response = JsonResponse({"detail": "Send Authorization: Bearer <METRICS_TOKEN>."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    started = time.monotonic()
    body = exposition()
    logger.debug("metrics: scraped in %.3f s", time.monotonic() - started)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
