"""`trigger/mqtt`: one execution per message on an MQTT topic filter, read like the queue trigger reads a queue.

Inputs: `host`, `port`, `username`, `password` (secret), `tls`, `topic` (a filter; + and # allowed), `qos`
(default 1), `client_id` (default: one derived from the trigger), `include_retained`, `batch_size`,
`interval`/`unit`. Each poll, under the trigger's lease, connects (egress-checked) with a persistent session
(clean session off, the same client id every time), so the broker keeps the QoS 1 and 2 messages that arrive
between polls. Messages are acknowledged only after the executions they started are committed; a message whose
acknowledgement is lost is delivered again (at least once). Messages published with QoS 0, or a subscription
with QoS 0, are not kept by brokers while the trigger is between polls.

The subscription is made on the first poll and again only when the broker no longer has the session (or the
topic or QoS changed), so a topic's retained message does not start a run at every poll; retained messages
start runs only with `include_retained`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flomation.launch.config import as_int, first
from flomation.launch.models import Trigger
from flomation.launch.pollers import (
    PollError,
    PollEvent,
    PollInputInvalid,
    PollResult,
    egress_policy_for,
    stored_connection_fields,
)
from flomation.lib.connections import ConnectionFailed

CONNECT_SECONDS = 10.0
# After subscribing (or connecting to a session the broker kept), read until no message came for QUIET
# seconds, and at most LISTEN seconds.
QUIET = 0.5
LISTEN = 3.0


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def mqtt_inputs_check(config: dict[str, Any], secrets: dict[str, Any]) -> tuple[str, int]:
    """The (topic filter, qos) the trigger subscribes to; raises PollInputInvalid saying what is wrong."""
    if not str(first(config, "host", default="")).strip() and not config.get("connection"):
        raise PollInputInvalid("set the MQTT broker's host", field="host")
    topic = str(first(config, "topic", default=""))
    if not topic:
        raise PollInputInvalid("set the topic to subscribe to (+ and # are wildcards)", field="topic")
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if ("#" in level and (level != "#" or index != len(levels) - 1)) or ("+" in level and level != "+"):
            raise PollInputInvalid(
                f"{topic!r} is not a topic filter: + stands for a whole level, # for the last level",
                field="topic",
            )
    qos = as_int(config.get("qos"), 1, minimum=0, maximum=2)
    return topic, qos


def client_id_for(trigger: Trigger, config: dict[str, Any]) -> str:
    """The same id at every poll, so the broker keeps the session; 23 characters, as MQTT 3.1.1 allows."""
    return str(first(config, "client_id", default="")) or f"flomation-{trigger.id.hex[:13]}"


class MqttPoller:
    def poll(
        self, *, trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any], cursor: Any, now: datetime
    ) -> PollResult:
        from paho.mqtt.client import topic_matches_sub

        from flomation.lib.connections.mqtt import message_record, open_session

        try:
            topic, qos = mqtt_inputs_check(config, secrets)
        except PollInputInvalid as error:
            raise PollError(str(error)) from None
        inline = {
            "host": first(config, "host"),
            "port": first(config, "port"),
            "username": first(config, "username", default=""),
            "password": secrets.get("password") or "",
            "tls": config.get("tls"),
        }
        fields = stored_connection_fields(trigger, config, "mqtt", inline)
        batch = as_int(config.get("batch_size"), 100, minimum=1, maximum=1000)
        subscription = {"topic": topic, "qos": qos}
        changed = (cursor or {}).get("subscription") != subscription
        policy, client_id = egress_policy_for(trigger), client_id_for(trigger, config)
        try:
            if changed:
                # A session the broker kept for an earlier topic would go on delivering it: start afresh.
                open_session(fields, policy, CONNECT_SECONDS, client_id=client_id, clean=True).close()
            session = open_session(
                fields, policy, CONNECT_SECONDS, client_id=client_id, clean=False, manual_ack=True
            )
        except ConnectionFailed as error:
            raise PollError(f"MQTT: {error}") from None
        try:
            if changed or not session.session_present:
                session.subscribe(topic, qos=qos, until=time.monotonic() + CONNECT_SECONDS)
            _listen(session, batch)
        except ConnectionFailed as error:
            session.close()
            raise PollError(f"MQTT: {error}") from None
        except BaseException:
            session.close()
            raise
        taken = session.messages[:batch]  # the rest are not acknowledged: the broker sends them again
        keep_retained = _flag(config.get("include_retained"))
        events = [
            PollEvent(data=message_record(m))
            for m in taken
            if (keep_retained or not m.retain) and topic_matches_sub(topic, m.topic)
        ]
        received = int((cursor or {}).get("received", 0)) + len(events)

        def finish(committed: bool) -> None:
            try:
                if committed:
                    for message in taken:
                        if message.qos > 0:
                            session.client.ack(message.mid, message.qos)
                    session.flush(time.monotonic() + CONNECT_SECONDS)
            finally:
                session.close()

        return PollResult(
            cursor={"received": received, "subscription": subscription}, events=events, finish=finish
        )


def _listen(session: Any, batch: int) -> None:
    """Reads until `batch` messages came, no message came for QUIET seconds, or LISTEN seconds passed."""
    end = time.monotonic() + LISTEN
    seen, quiet_from = 0, time.monotonic()
    while len(session.messages) < batch and time.monotonic() < end:
        session.step()
        if len(session.messages) != seen:
            seen, quiet_from = len(session.messages), time.monotonic()
        elif time.monotonic() - quiet_from >= QUIET:
            return
