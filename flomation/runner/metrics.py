"""The runner's own Prometheus metrics, served on an internal address. No Django.

Off unless FLOMATION_RUNNER_METRICS_BIND is set (`127.0.0.1:9464`, or an address on a network only the
monitoring can reach; the endpoint has no authentication of its own, so never a public one). Figures:
slots in use and in all, executions claimed and waiting for a slot, and executions run by final state.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

BIND_VARIABLE = "FLOMATION_RUNNER_METRICS_BIND"


def runner_metrics_start(
    *, slots: int, slots_in_use: Callable[[], float], waiting: Callable[[], float], bind: str | None = None
) -> Callable[[str], None] | None:
    """Starts the metrics endpoint if configured; returns `count(state)` for finished executions (None
    when metrics are off or the address cannot be used: the runner runs on without them)."""
    bind = os.environ.get(BIND_VARIABLE, "") if bind is None else bind
    if not bind:
        return None
    host, _, port = bind.rpartition(":")
    try:
        from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

        registry = CollectorRegistry()
        Gauge("flomation_runner_slots", "Slots of this runner.", registry=registry).set(slots)
        Gauge(
            "flomation_runner_slots_in_use", "Slots running an execution now.", registry=registry
        ).set_function(slots_in_use)
        Gauge(
            "flomation_runner_claimed_waiting", "Claimed executions waiting for a slot.", registry=registry
        ).set_function(waiting)
        executions: Any = Counter(
            "flomation_runner_executions_total",
            "Executions this runner ran, by final state.",
            ["state"],
            registry=registry,
        )
        start_http_server(int(port), addr=host or "127.0.0.1", registry=registry)
    except (ValueError, OSError) as error:
        logger.error(
            "runner metrics: cannot serve on %s (%s); %s must be host:port", bind, error, BIND_VARIABLE
        )
        return None
    logger.info("runner metrics at http://%s:%s/metrics", host or "127.0.0.1", port)
    return lambda state: executions.labels(state=state).inc()
