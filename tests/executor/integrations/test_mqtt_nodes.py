"""The MQTT nodes against the machine's Mosquitto (127.0.0.1:1883, anonymous) and a second Mosquitto the tests
start with a password file."""

from __future__ import annotations

import threading
import time
import uuid

import paho.mqtt.client as paho
import pytest
from conftest import chain, node, outputs_of, run, run_node

from flomation.executor import ExecutorSettings
from flomation.executor.providers import StaticSecrets
from flomation.lib.egress import EgressPolicy
from tests.support.brokers import (
    MOSQUITTO,
    closed_port,
    mosquitto_with_password,
    mosquitto_with_tls,
    require_server,
)

HOST, PORT = MOSQUITTO


@pytest.fixture(autouse=True)
def _mosquitto():
    require_server(MOSQUITTO, "Mosquitto")


@pytest.fixture
def secured(tmp_path):
    with mosquitto_with_password(tmp_path) as broker:
        yield broker


def topic() -> str:
    return f"flomation-test/{uuid.uuid4().hex[:10]}"


def broker(**extra):
    return {"host": HOST, "port": PORT, **extra}


class Listener:
    """A plain paho subscriber on the machine's Mosquitto, run in a thread."""

    def __init__(self, topic_filter: str, *, reply_v5: bool = False, reply_topic: str | None = None) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self.ready = threading.Event()
        protocol = paho.MQTTv5 if reply_v5 else paho.MQTTv311
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=protocol)
        self.client.on_connect = lambda c, *a: c.subscribe(topic_filter, qos=1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.reply_v5, self.reply_topic = reply_v5, reply_topic

        def on_message(client, _userdata, message):
            self.messages.append(message)
            props = getattr(message, "properties", None)
            target = getattr(props, "ResponseTopic", None) or self.reply_topic
            if target and not message.retain:
                out = None
                if self.reply_v5:
                    from paho.mqtt.packettypes import PacketTypes
                    from paho.mqtt.properties import Properties

                    out = Properties(PacketTypes.PUBLISH)
                    out.CorrelationData = props.CorrelationData
                client.publish(target, b'{"answer": "pong:' + message.payload + b'"}', qos=1, properties=out)

        self.client.on_message = on_message

    def __enter__(self) -> Listener:
        self.client.connect(HOST, PORT)
        self.client.loop_start()
        assert self.ready.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def wait(self, count: int = 1, timeout: float = 5) -> list[paho.MQTTMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def publish_raw(name: str, payload: bytes, *, retain: bool = False) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.connect(HOST, PORT)
    client.loop_start()
    client.publish(name, payload, qos=1, retain=retain).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_publish_delivers_the_payload_and_a_later_node_reads_the_result():
    name = topic()
    with Listener(name) as listener:
        f = chain(
            node("pub", "messagebrokers/mqtt/publish", broker(topic=name, payload={"temp": 21.5}, qos=1)),
            node("o", "output/set", {"name": "sent", "value": "${pub.topic} #${pub.message_id}"}),
        )
        result, _ = run(f)
        assert result.status == "succeeded", result.error
        assert listener.wait()[0].payload == b'{"temp":21.5}'
    assert result.outputs["sent"].startswith(f"{name} #")
    assert outputs_of(result, "pub")["success"] is True


def test_publish_with_a_password_and_a_wrong_password(secured):
    fields = {"host": secured.host, "port": secured.port, "username": secured.username}
    good = run_node("messagebrokers/mqtt/publish", {**fields, "password": secured.password, "topic": "a/b"})
    assert good.status == "succeeded", good.error
    bad = run_node("messagebrokers/mqtt/publish", {**fields, "password": "not-it", "topic": "a/b"})
    assert bad.status == "failed"
    assert "authentication failed" in bad.error and "ada" in bad.error and "not-it" not in bad.error


def test_an_unreachable_broker_fails_with_the_reason():
    result = run_node("messagebrokers/mqtt/publish", {"host": HOST, "port": closed_port(), "topic": "a"})
    assert result.status == "failed"
    assert "connection refused" in result.error


def test_a_broker_on_a_loopback_address_is_refused_by_the_default_policy():
    strict = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy())
    result = run_node("messagebrokers/mqtt/publish", broker(topic="a"), settings=strict)
    assert result.status == "failed"
    assert "egress refused" in result.error and "loopback" in result.error


def test_a_stored_connection_supplies_host_and_credentials_and_its_password_is_masked(secured):
    secrets = StaticSecrets(
        connections={
            "plant": {
                "type": "mqtt",
                "fields": {
                    "host": secured.host,
                    "port": secured.port,
                    "username": secured.username,
                    "password": secured.password,
                },
            }  # fmt: skip
        }
    )
    f = chain(
        node("pub", "messagebrokers/mqtt/publish", {"connection": "plant", "topic": "plant/line1",
                                                    "payload": f"pw={secured.password}"}),
    )  # fmt: skip
    result, recorder = run(f, secrets=secrets)
    assert result.status == "succeeded", result.error
    finished = [e for e in recorder.events if e["id"] == "pub" and e["status"] == "success"]
    assert finished and secured.password not in str(finished)


def test_message_wait_returns_the_next_message_parsed_as_json():
    name = topic()
    publish_raw(name, b'{"old": true}', retain=True)  # a retained message is not the next message
    sender = threading.Timer(0.8, publish_raw, args=(name, b'{"door": "open"}'))
    sender.start()
    f = chain(
        node("w", "messagebrokers/mqtt/message_wait", broker(topic=name.rsplit("/", 1)[0] + "/+", timeout_seconds=10)),
        node("o", "output/set", {"name": "door", "value": "${w.payload.door}"}),
    )  # fmt: skip
    result, _ = run(f)
    sender.join()
    publish_raw(name, b"", retain=True)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"door": "open"}
    assert outputs_of(result, "w")["topic"] == name and outputs_of(result, "w")["retained"] is False


def test_message_wait_gives_up_at_its_timeout_or_carries_on_when_asked():
    started = time.monotonic()
    failed = run_node("messagebrokers/mqtt/message_wait", broker(topic=topic(), timeout_seconds=0.5))
    assert failed.status == "failed" and "no message" in failed.error
    soft = run_node(
        "messagebrokers/mqtt/message_wait", broker(topic=topic(), timeout_seconds=0.5, fail_on_timeout=False)
    )
    assert soft.status == "succeeded" and outputs_of(soft)["received"] is False
    assert time.monotonic() - started < 6


def test_message_wait_stops_at_the_nodes_own_timeout():
    f = chain(
        node(
            "n",
            "messagebrokers/mqtt/message_wait",
            broker(topic=topic(), timeout_seconds=60),
            timeout_seconds=1,
        )
    )
    started = time.monotonic()
    result, _ = run(f)
    assert result.status == "failed"
    assert time.monotonic() - started < 5


def test_message_wait_stops_when_the_run_is_cancelled():
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    result, _ = run(
        chain(node("n", "messagebrokers/mqtt/message_wait", broker(topic=topic()))), cancel=cancel
    )
    assert result.status == "cancelled"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("version", ["3.1.1", "5"])
def test_request_reply_returns_the_responders_answer(version):
    name = topic()
    v5 = version == "5"
    with Listener(name, reply_v5=v5, reply_topic=None if v5 else f"{name}/response"):
        f = chain(
            node("rr", "messagebrokers/mqtt/request_reply",
                 broker(topic=name, payload="ping", protocol_version=version, timeout_seconds=10)),
            node("o", "output/set", {"name": "answer", "value": "${rr.response.answer}"}),
        )  # fmt: skip
        result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"answer": "pong:ping"}


def test_request_reply_without_a_responder_fails_at_its_timeout():
    result = run_node("messagebrokers/mqtt/request_reply", broker(topic=topic(), timeout_seconds=0.5))
    assert result.status == "failed" and "no reply" in result.error


def test_retained_messages_are_read_and_cleared():
    name = topic()
    f = chain(
        node("put", "messagebrokers/mqtt/publish", broker(topic=name, payload="on", retain=True, qos=1)),
        node("get", "messagebrokers/mqtt/retained_get", broker(topic=name)),
        node("clear", "messagebrokers/mqtt/retained_clear", broker(topic="${get.topic}")),
        node("again", "messagebrokers/mqtt/retained_get", broker(topic=name, wait_seconds=0.3)),
        node("o", "output/set", {"name": "state", "value": "${get.payload}"}),
    )
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"state": "on"}
    assert outputs_of(result, "get")["found"] is True
    assert outputs_of(result, "again")["found"] is False


def test_a_wildcard_reads_every_retained_message_under_it():
    base = topic()
    for index in range(3):
        publish_raw(f"{base}/{index}", str(index).encode(), retain=True)
    result = run_node("messagebrokers/mqtt/retained_get", broker(topic=f"{base}/#", wait_seconds=0.5))
    for index in range(3):
        publish_raw(f"{base}/{index}", b"", retain=True)
    assert sorted(m["payload"] for m in outputs_of(result)["messages"]) == ["0", "1", "2"]


def test_tls_checks_the_certificate_against_the_brokers_name_while_connecting_to_the_checked_address(
    tmp_path,
):
    policy = EgressPolicy.build(allow=["127.0.0.0/8", "::1/128"])
    settings = ExecutorSettings(log=lambda *a: None, egress=policy)
    with mosquitto_with_tls(tmp_path) as (tls_broker, ca_pem):
        fields = {"port": tls_broker.port, "tls": True, "topic": "secure/a", "qos": 1}
        good = run_node("messagebrokers/mqtt/publish", {**fields, "host": "localhost", "ca_certificate": ca_pem},
                        settings=settings)  # fmt: skip
        assert good.status == "succeeded", good.error
        untrusted = run_node(
            "messagebrokers/mqtt/publish", {**fields, "host": "localhost"}, settings=settings
        )
        assert untrusted.status == "failed" and "not trusted" in untrusted.error
        # The certificate names localhost: reached by its address, the name does not match.
        by_address = run_node("messagebrokers/mqtt/publish", {**fields, "host": "127.0.0.1", "ca_certificate": ca_pem},
                              settings=settings)  # fmt: skip
        assert by_address.status == "failed" and "mismatch" in by_address.error
