"""The HTTP exchange the chat and SMS connection types and nodes share: one request through an egress
session, rate-limit answers waited out a bounded number of times, replies read within a size limit.

A 429 says how long to wait in a `Retry-After` header (Slack, Twilio, Graph, Discord) or in the body
(`parameters.retry_after` from Telegram, `retry_after` from Discord). The wait is honoured up to
`MAX_WAIT_SECONDS` and `MAX_RETRIES` times; a longer wait or one more 429 fails with a sentence that says
so, since waiting minutes inside a node would hold a runner slot for nothing. No Django.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flomation.lib.connections.base import ConnectionFailed

MAX_RETRIES = 3
MAX_WAIT_SECONDS = 30.0
MAX_REPLY_BYTES = 4 * 1024 * 1024


class ServiceFailed(ConnectionFailed):
    """The service answered, and the answer is a refusal or an error; the message names what failed and
    never carries a credential."""


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def data(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8", errors="replace")) if self.body else None
        except ValueError:
            return None

    def text(self, limit: int = 200) -> str:
        return self.body[:limit].decode("utf-8", errors="replace").strip()


def send(session: Any, method: str, url: str, *, timeout: float, **kwargs: Any) -> Reply:
    """One request through `session` (an egress session: every connection checked and pinned), its reply
    read up to MAX_REPLY_BYTES. Redirects are not followed: these APIs do not redirect, and a redirect
    would carry the Authorization header to wherever it points."""
    reply = session.request(method, url, timeout=timeout, allow_redirects=False, stream=True, **kwargs)
    try:
        chunks, size = [], 0
        for chunk in reply.iter_content(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                break
        return Reply(reply.status_code, dict(reply.headers), b"".join(chunks)[:MAX_REPLY_BYTES])
    finally:
        reply.close()


def retry_after(reply: Reply) -> float | None:
    """The seconds a 429 asks to wait: the Retry-After header (seconds or an HTTP date), else the body's
    `parameters.retry_after` (Telegram) or `retry_after` (Discord); None when it does not say."""
    header = reply.headers.get("Retry-After") or reply.headers.get("retry-after")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                import datetime as dt

                when = parsedate_to_datetime(header)
                return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
            except (TypeError, ValueError):
                pass
    data = reply.data
    if isinstance(data, dict):
        for holder in (data.get("parameters"), data):
            if isinstance(holder, dict) and isinstance(holder.get("retry_after"), int | float):
                return max(0.0, float(holder["retry_after"]))
    return None


def exchange(
    attempt: Callable[[], Reply],
    *,
    sleep: Callable[[float], bool],
    what: str,
    retries: int = MAX_RETRIES,
    max_wait: float = MAX_WAIT_SECONDS,
) -> Reply:
    """`attempt()` again after each 429, waiting what the service asks (1, 2, 4 s when it does not say).

    `sleep(seconds)` returns False when the wait was cut short (the run was cancelled). Raises ServiceFailed
    when the limit is still hit after `retries` waits or a wait would exceed `max_wait`."""
    tries = 0
    while True:
        reply = attempt()
        if reply.status != 429:
            return reply
        wait = retry_after(reply)
        if wait is None:
            wait = float(2**tries)
        if tries >= retries:
            raise ServiceFailed(f"{what}: rate limited (HTTP 429) after {tries + 1} attempts")
        if wait > max_wait:
            raise ServiceFailed(
                f"{what}: rate limited (HTTP 429); the service asked to wait {wait:g} s, "
                f"longer than the {max_wait:g} s a node waits"
            )
        tries += 1
        if not sleep(wait):
            raise ServiceFailed(f"{what}: cancelled while waiting out a rate limit")


def unreachable(error: Exception, where: str) -> str:
    """A sentence for a connection failure that names the host, never the URL (a Telegram URL carries the
    bot token in its path)."""
    import requests

    text = str(error).lower()
    if isinstance(error, requests.Timeout):
        return f"timed out talking to {where}"
    if "refused" in text:
        return f"could not connect to {where}: connection refused"
    if "resolve" in text or "name or service not known" in text or "nodename" in text:
        return f"could not connect to {where}: the name does not resolve"
    if "certificate" in text or "ssl" in text:
        return f"could not connect to {where}: TLS failed"
    return f"could not connect to {where}"


def host_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or url[:40]


def base_url(value: Any, default: str) -> str:
    """A service's base URL without the trailing slash; ConnectionFailed unless it is http(s) with a host."""
    from urllib.parse import urlsplit

    url = str(value or "").strip() or default
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConnectionFailed(
            f"the base URL must be an http:// or https:// URL with a host (got {url[:60]!r})"
        )
    return url.rstrip("/")


def checked(policy: Any, timeout: float, what: str, method: str, url: str, **kwargs: Any) -> Reply:
    """One exchange for a connection type's `test`: its own egress session, blocking sleeps."""
    import time

    import requests

    from flomation.lib.egress import EgressDenied
    from flomation.lib.egress.http import egress_session

    session = egress_session(policy)

    def pause(seconds: float) -> bool:
        time.sleep(seconds)
        return True

    try:
        return exchange(
            lambda: send(session, method, url, timeout=timeout, **kwargs),
            sleep=pause,
            what=what,
            max_wait=5.0,
        )
    except EgressDenied as refused:
        raise ConnectionFailed(str(refused)) from None
    except requests.RequestException as error:
        raise ConnectionFailed(unreachable(error, host_of(url))) from None
    finally:
        session.close()
