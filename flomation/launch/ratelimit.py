"""Per-trigger rate limits: a token bucket per trigger in each web worker process.

Why in-process rather than in PostgreSQL: a shared counter is one hot row per trigger that every request
would lock and commit, which serialises a busy webhook and costs a write per request on the ingress path
we keep to one transaction. The price is that the limit is per worker process: with N web workers a
trigger accepts up to N times its configured rate (docs/launch.md says so). The limit exists to protect
the platform from floods, not to meter usage, so that approximation is the right trade.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(self, clock: callable = time.monotonic) -> None:  # type: ignore[valid-type]
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def take(self, key: str, *, rate: float, burst: int) -> float:
        """Takes one token. Returns 0 if allowed, else the seconds until a token will be available."""
        if rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) > 50_000:
                    self._buckets.clear()
                bucket = self._buckets[key] = _Bucket(tokens=float(burst), updated=now)
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / rate

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


buckets = TokenBuckets()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
