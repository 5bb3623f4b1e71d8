"""`trigger/queue`: messages from a RabbitMQ or Redis queue, read through kombu.

Inputs: `url` (secret when it holds a password: `broker_url`/`queue_url`; amqp://... or redis://...),
`queue` (name), `batch_size` (default 50), `interval`. Messages are acknowledged only after the executions
they started are committed; a message whose ack is lost is delivered again (at-least-once), and a message
carrying a `message_id` property starts nothing new the second time (it is the idempotency key).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kombu import Connection
from kombu.simple import SimpleQueue

from flomation.launch.config import as_int, first
from flomation.launch.models import Trigger
from flomation.launch.pollers import PollError, PollEvent, PollResult, egress_policy_for
from flomation.lib.egress import EgressDenied, EgressPolicy


def _body(message: Any) -> Any:
    try:
        return message.decode()
    except Exception:
        raw = message.body
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        try:
            return json.loads(text)
        except ValueError:
            return text


# Brokers reached over the network, with their default ports. Other kombu transports (redis+socket://,
# filesystem://, memory://, ...) work on this machine: refused unless local connections are allowed.
_BROKERS = {"amqp": 5672, "pyamqp": 5672, "amqps": 5671, "redis": 6379, "rediss": 6379}
_TLS = {"amqps", "rediss"}
_LOCAL = {"redis+socket", "socket", "filesystem", "memory"}


def _checked_url(url: str, policy: EgressPolicy) -> str:
    """The broker URL (or `;`-separated failover URLs) with every host checked; plain connections are
    pinned to the checked address (TLS ones keep the name, which their certificate is checked against)."""
    checked = []
    for piece in (part.strip() for part in url.split(";")):
        if not piece:
            continue
        parts = urlsplit(piece)
        scheme = parts.scheme.lower()
        if scheme in _LOCAL:
            policy.check_path(f"a {scheme}:// broker", what="a broker transport on this machine")
            checked.append(piece)
            continue
        if scheme not in _BROKERS:
            raise EgressDenied(f"a {scheme or 'scheme-less'}:// broker", "not a transport this check knows")
        host, port, addresses = policy.check_url(piece, schemes=_BROKERS)
        if scheme in _TLS or not addresses:
            checked.append(piece)
            continue
        address = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@{address}:{port}" if "@" in parts.netloc else f"{address}:{port}"
        checked.append(urlunsplit(parts._replace(netloc=netloc)))
    return ";".join(checked)


class QueuePoller:
    def poll(
        self, *, trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any], cursor: Any, now: datetime
    ) -> PollResult:
        url = str(secrets.get("broker_url") or secrets.get("queue_url") or first(config, "url", default=""))
        name = str(first(config, "queue", "queue_name", default=""))
        if not url or not name:
            raise PollError("set the broker url (amqp://... or redis://...) and the queue name")
        batch = as_int(config.get("batch_size"), 50, minimum=1, maximum=1000)
        url = _checked_url(url, egress_policy_for(trigger))
        connection = Connection(url, connect_timeout=10, transport_options={"max_retries": 1})
        try:
            connection.ensure_connection(max_retries=1)
            queue: SimpleQueue = connection.SimpleQueue(name)
        except Exception as error:
            connection.release()
            raise PollError(f"cannot open queue {name!r}: {type(error).__name__}: {error}") from None
        messages = []
        try:
            for _ in range(batch):
                try:
                    messages.append(queue.get(block=True, timeout=0.2))
                except queue.Empty:
                    break
        except Exception:
            queue.close()
            connection.release()
            raise
        events = []
        for message in messages:
            message_id = message.properties.get("message_id") or message.headers.get("message_id")
            events.append(
                PollEvent(
                    data={"queue": name, "body": _body(message), "headers": dict(message.headers or {}),
                          "message_id": message_id or "", "content_type": message.content_type or ""},
                    key=f"{name}:{message_id}" if message_id else None,
                )
            )  # fmt: skip
        received = int((cursor or {}).get("received", 0)) + len(messages)

        def finish(committed: bool) -> None:
            try:
                for message in messages:
                    if committed:
                        message.ack()
                    else:
                        message.requeue()
            finally:
                queue.close()
                connection.release()

        return PollResult(cursor={"received": received}, events=events, finish=finish)
