"""MQTT nodes: publish, request/reply, wait for a message, read and clear a retained message.

The client (paho-mqtt) is opened by `flomation.lib.connections.mqtt`, shared with the connection's test and the
MQTT trigger: egress-checked, and driven from the node's own thread with `ctx.check()` between steps, so the
node's timeout and cancellation stop a wait at once.
"""

from __future__ import annotations

import contextlib
import time
import uuid

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from flomation.executor.engine.context import NodeContext
    from flomation.lib.connections.mqtt import MqttSession

CATEGORY = "messagebrokers"
CONNECT_SECONDS = 15.0
_QOS = (0, 1, 2)

_CONNECTION = (
    connection_input("mqtt"),
    Input("host", "string", description="The broker's host (when no connection is picked)."),
    Input("port", "integer", description="The broker's port: 1883, or 8883 with TLS."),
    Input("username", "string", description="The user to connect as (blank: anonymous)."),
    Input("password", "secret", description="The user's password."),
    Input("tls", "boolean", description="Connect with TLS; the broker's certificate is checked."),
    Input(
        "ca_certificate",
        "text",
        description="A PEM CA certificate, for a broker whose certificate it signed.",
    ),
    Input("client_id", "string", description="The MQTT client id (blank: a random one)."),
    Input(
        "protocol_version",
        "string",
        default="3.1.1",
        options=("3.1.1", "5"),
        description="The MQTT version to speak; 5 carries a reply topic and correlation data on requests.",
    ),
)
_MESSAGE_OUTPUTS = (
    "topic:string",
    "payload:any",
    "payload_text:string",
    "payload_bytes:integer",
    "qos:integer",
    "retained:boolean",
)


def _qos(inputs: dict[str, Any], default: int = 0) -> int:
    value = inputs.get("qos")
    qos = default if value is None else int(value)
    if qos not in _QOS:
        raise NodeError(f"input 'qos' must be 0, 1 or 2 (got {qos})")
    return qos


def _topic(inputs: dict[str, Any], name: str = "topic", *, wildcards: bool = False) -> str:
    topic = str(inputs.get(name) or "")
    if not topic:
        raise NodeError(f"input '{name}' is required")
    if not wildcards and ("+" in topic or "#" in topic):
        raise NodeError(f"input '{name}' names one topic: the wildcards + and # are for subscriptions")
    return topic


@contextlib.contextmanager
def _session(ctx: NodeContext, inputs: dict[str, Any]) -> Iterator[MqttSession]:
    """A connected session, closed at the end; refusals and failures become the node's error."""
    from flomation.lib.connections import ConnectionFailed
    from flomation.lib.connections.mqtt import open_session
    from flomation.lib.egress import EgressDenied

    fields = connection_fields(
        ctx,
        inputs,
        "mqtt",
        inline=("host", "port", "username", "password", "tls", "client_id"),
        secret=("password",),
    )
    session = None
    try:
        session = open_session(
            fields,
            ctx.egress,
            ctx.remaining(CONNECT_SECONDS) or 0.5,
            check=ctx.check,
            version=str(inputs.get("protocol_version") or "3.1.1"),
            ca_certificate=inputs.get("ca_certificate"),
        )
        yield session
    except EgressDenied as error:
        ctx.egress_refused(error)
        raise NodeError(str(error)) from None
    except ConnectionFailed as error:
        raise NodeError(f"MQTT: {error}") from None
    finally:
        if session is not None:
            session.close()


def _until(ctx: NodeContext, seconds: Any, default: float) -> float:
    wanted = default if seconds is None else max(0.0, float(seconds))
    return time.monotonic() + (ctx.remaining(wanted) or 0.0)


def _record(message: Any) -> dict[str, Any]:
    from flomation.lib.connections.mqtt import message_record

    record = message_record(message)
    if record.get("payload_too_large"):
        raise NodeError(
            f"the message on {message.topic!r} is larger than 5 MiB ({record['payload_bytes']} bytes)"
        )
    return record


@node(
    "messagebrokers/mqtt/publish",
    name="MQTT Publish",
    category=CATEGORY,
    description="Publish a message to an MQTT topic and wait until the broker has it.",
    inputs=(
        *_CONNECTION,
        Input("topic", "string", required=True, description="The topic to publish to (no wildcards)."),
        Input("payload", "any", description="Text is sent as it is; an object, list or number as JSON."),
        Input("qos", "integer", default=0, options=_QOS, description="0 at most once, 1 at least once, 2 exactly once."),
        Input("retain", "boolean", default=False, description="The broker keeps it as the topic's retained message."),
        Input("timeout_seconds", "number", default=30, description="How long to wait for the broker's acknowledgement."),
    ),
    outputs=("success:boolean", "topic:string", "message_id:integer", "qos:integer", "retained:boolean",
             "payload_bytes:integer"),
    idempotent=False,
)  # fmt: skip
def publish(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections.mqtt import encode_payload

    topic = _topic(inputs)
    qos = _qos(inputs)
    retain = bool(inputs.get("retain"))
    payload = encode_payload(inputs.get("payload"))
    with _session(ctx, inputs) as session:
        mid = session.publish(
            topic, payload, qos=qos, retain=retain, until=_until(ctx, inputs.get("timeout_seconds"), 30)
        )
    return {"success": True, "topic": topic, "message_id": mid, "qos": qos, "retained": retain,
            "payload_bytes": len(payload)}  # fmt: skip


@node(
    "messagebrokers/mqtt/request_reply",
    name="MQTT Request/Reply",
    category=CATEGORY,
    description="Publish a request and wait for the first reply on the response topic.",
    inputs=(
        *_CONNECTION,
        Input("topic", "string", required=True, description="The topic the request is published to."),
        Input("payload", "any", description="The request: text as it is, other values as JSON."),
        Input("response_topic", "string", description="Where the reply comes (default: the topic + /response)."),
        Input("correlation_id", "string", description="MQTT 5: sent as correlation data; only a reply carrying it (or none) is taken. Default: a new id."),
        Input("qos", "integer", default=1, options=_QOS, description="The QoS of the request and the subscription."),
        Input("timeout_seconds", "number", default=30, description="How long to wait for the reply."),
    ),
    outputs=("success:boolean", "response:any", "response_text:string", "response_topic:string",
             "correlation_id:string", "elapsed_ms:integer"),
)  # fmt: skip
def request_reply(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections.mqtt import encode_payload

    topic = _topic(inputs)
    response_topic = _topic(
        {"response_topic": inputs.get("response_topic") or f"{topic}/response"}, "response_topic"
    )
    qos = _qos(inputs, 1)
    correlation = str(inputs.get("correlation_id") or uuid.uuid4().hex)
    v5 = str(inputs.get("protocol_version") or "").strip() == "5"
    until = _until(ctx, inputs.get("timeout_seconds"), 30)
    started = time.monotonic()
    with _session(ctx, inputs) as session:
        session.subscribe(response_topic, qos=qos, until=until)
        properties = None
        if v5:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            properties = Properties(PacketTypes.PUBLISH)
            properties.ResponseTopic = response_topic
            properties.CorrelationData = correlation.encode()
        session.publish(topic, encode_payload(inputs.get("payload")), qos=qos, retain=False, until=until,
                        properties=properties)  # fmt: skip

        def reply() -> Any:
            for message in session.messages:
                if message.retain:  # an old reply kept on the topic, not the answer to this request
                    continue
                sent = getattr(getattr(message, "properties", None), "CorrelationData", None)
                if sent is None or bytes(sent) == correlation.encode():
                    return message
            return None

        if not session.wait(lambda: reply() is not None, until):
            raise NodeError(f"MQTT: no reply on {response_topic!r} within the timeout")
        record = _record(reply())
    return {
        "success": True,
        "response": record["payload"],
        "response_text": record["payload_text"],
        "response_topic": response_topic,
        "correlation_id": correlation,
        "elapsed_ms": int((time.monotonic() - started) * 1000),
    }


@node(
    "messagebrokers/mqtt/message_wait",
    name="MQTT Wait for Message",
    category=CATEGORY,
    description="Subscribe and wait for the next message on a topic (wildcards allowed).",
    inputs=(
        *_CONNECTION,
        Input("topic", "string", required=True, description="The topic filter; + matches one level, # the rest."),
        Input("qos", "integer", default=0, options=_QOS, description="The subscription's QoS."),
        Input("timeout_seconds", "number", default=60, description="How long to wait (the node's own timeout still applies)."),
        Input("include_retained", "boolean", default=False, description="Take the topic's retained message as the message."),
        Input("fail_on_timeout", "boolean", default=True, description="When nothing comes: fail, or carry on with received false."),
    ),
    outputs=("received:boolean", "timed_out:boolean", *_MESSAGE_OUTPUTS),
)  # fmt: skip
def message_wait(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(inputs, wildcards=True)
    qos = _qos(inputs)
    keep_retained = bool(inputs.get("include_retained"))
    until = _until(ctx, inputs.get("timeout_seconds"), 60)
    with _session(ctx, inputs) as session:
        session.subscribe(topic, qos=qos, until=until)

        def first() -> Any:
            return next((m for m in session.messages if keep_retained or not m.retain), None)

        if not session.wait(lambda: first() is not None, until):
            if inputs.get("fail_on_timeout") is False:
                return {"received": False, "timed_out": True, "topic": topic}
            raise NodeError(f"MQTT: no message on {topic!r} within the timeout")
        record = _record(first())
    return {"received": True, "timed_out": False, **record}


@node(
    "messagebrokers/mqtt/retained_get",
    name="MQTT Get Retained",
    category=CATEGORY,
    description="Read the retained message of a topic (or of every topic a wildcard filter matches).",
    inputs=(
        *_CONNECTION,
        Input("topic", "string", required=True, description="A topic, or a filter with + and # for several."),
        Input("wait_seconds", "number", default=1, description="How long to wait for the broker to send what it keeps."),
        Input("max_messages", "integer", default=100, description="At most this many (wildcard filters), up to 1000."),
    ),
    outputs=("found:boolean", "count:integer", "messages:array", *_MESSAGE_OUTPUTS),
)  # fmt: skip
def retained_get(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(inputs, wildcards=True)
    exact = "+" not in topic and "#" not in topic
    limit = max(1, min(1000, int(inputs.get("max_messages") or 100)))
    with _session(ctx, inputs) as session:
        session.subscribe(topic, qos=0, until=_until(ctx, 15, 15))
        kept = lambda: [m for m in session.messages if m.retain]  # noqa: E731 - read at each step
        session.wait(
            lambda: len(kept()) >= (1 if exact else limit), _until(ctx, inputs.get("wait_seconds"), 1)
        )
        records = [_record(m) for m in kept()[:limit]]
    first = records[0] if records else {"topic": topic, "payload": None, "payload_text": ""}
    return {"found": bool(records), "count": len(records), "messages": records, **first}


@node(
    "messagebrokers/mqtt/retained_clear",
    name="MQTT Clear Retained",
    category=CATEGORY,
    description="Remove a topic's retained message (publishes an empty retained message).",
    inputs=(
        *_CONNECTION,
        Input("topic", "string", required=True, description="The topic whose retained message is removed."),
        Input("qos", "integer", default=1, options=_QOS, description="The QoS of the clearing message."),
        Input("timeout_seconds", "number", default=30, description="How long to wait for the broker's acknowledgement."),
    ),
    outputs=("success:boolean", "topic:string"),
)  # fmt: skip
def retained_clear(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(inputs)
    qos = _qos(inputs, 1)
    with _session(ctx, inputs) as session:
        session.publish(
            topic, b"", qos=qos, retain=True, until=_until(ctx, inputs.get("timeout_seconds"), 30)
        )
    return {"success": True, "topic": topic}
