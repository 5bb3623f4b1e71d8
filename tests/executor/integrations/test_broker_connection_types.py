"""The mqtt, amqp and nats connection types: `test()` connects for real, with a good and a bad credential."""

from __future__ import annotations

import pytest

from flomation.lib.connections import ConnectionFailed, amqp, get, mqtt, nats
from flomation.lib.egress import EgressDenied, EgressPolicy
from tests.support.brokers import (
    MOSQUITTO,
    NATS,
    RABBITMQ,
    closed_port,
    mosquitto_with_password,
    nats_with_password,
    nats_with_token,
    require_server,
)

LOOPBACK = EgressPolicy.build(allow=["127.0.0.0/8"])


def failure(module, fields, policy=LOOPBACK) -> str:
    with pytest.raises(ConnectionFailed) as caught:
        module.test(fields, policy, 3)
    return str(caught.value)


def test_the_types_are_found_with_their_secret_fields():
    for kind, secret in (
        ("mqtt", {"password"}),
        ("amqp", {"url", "password"}),
        ("nats", {"password", "token"}),
    ):
        module = get(kind)
        assert module is not None and kind == module.KIND
        assert {field.name for field in module.FIELDS if field.secret} == secret


def test_mqtt_with_a_good_and_a_bad_password(tmp_path):
    with mosquitto_with_password(tmp_path) as broker:
        fields = {"host": broker.host, "port": broker.port, "username": broker.username}
        assert mqtt.test({**fields, "password": broker.password}, LOOPBACK, 3) == (
            f"connected to {broker.host}:{broker.port} as '{broker.username}'"
        )
        message = failure(mqtt, {**fields, "password": "wrong-pw"})
        assert "authentication failed" in message and "wrong-pw" not in message
        assert "anonymous" in failure(mqtt, {"host": broker.host, "port": broker.port})


def test_mqtt_anonymous_on_the_machines_broker_and_the_failures_it_names():
    require_server(MOSQUITTO, "Mosquitto")
    assert mqtt.test({"host": "127.0.0.1", "port": 1883}, LOOPBACK, 3) == "connected to 127.0.0.1:1883"
    assert "connection refused" in failure(mqtt, {"host": "127.0.0.1", "port": closed_port()})
    assert "cannot resolve" in failure(mqtt, {"host": "no-such-host.invalid"})
    with pytest.raises(EgressDenied):
        mqtt.test({"host": "127.0.0.1"}, EgressPolicy(), 3)


def test_amqp_with_a_good_and_a_bad_password():
    require_server(RABBITMQ, "RabbitMQ")
    good = amqp.test({"host": "127.0.0.1", "username": "guest", "password": "guest"}, LOOPBACK, 3)
    assert good == "connected to 127.0.0.1:5672 (virtual host '/') as 'guest'"
    assert amqp.test({"url": "amqp://guest:guest@127.0.0.1:5672/%2F"}, LOOPBACK, 3).startswith("connected")
    message = failure(amqp, {"url": "amqp://guest:wrong-pw@127.0.0.1:5672/"})
    assert message == "authentication failed for user 'guest' at 127.0.0.1:5672"
    assert "virtual host 'nowhere'" in failure(amqp, {"url": "amqp://guest:guest@127.0.0.1/nowhere"})
    assert "connection refused" in failure(amqp, {"host": "127.0.0.1", "port": closed_port()})
    assert "amqp://" in failure(amqp, {"url": "http://127.0.0.1/"})


def test_nats_with_a_good_and_a_bad_token():
    with nats_with_token() as server:
        servers = f"nats://{server.host}:{server.port}"
        assert nats.test({"servers": servers, "token": server.token}, LOOPBACK, 3).startswith("connected")
        message = failure(nats, {"servers": servers, "token": "wrong-token"})
        assert "authentication failed" in message and "wrong-token" not in message


def test_nats_with_a_good_and_a_bad_password():
    with nats_with_password() as server:
        fields = {"servers": f"{server.host}:{server.port}", "username": server.username}
        assert nats.test({**fields, "password": server.password}, LOOPBACK, 3).startswith("connected")
        message = failure(nats, {**fields, "password": "wrong-pw"})
        assert f"user '{server.username}'" in message and "wrong-pw" not in message


def test_nats_unreachable_and_refused_by_the_policy():
    require_server(NATS, "NATS")
    assert nats.test({"servers": "nats://127.0.0.1:4222"}, LOOPBACK, 3) == "connected to 127.0.0.1:4222"
    assert "connection refused" in failure(nats, {"servers": f"nats://127.0.0.1:{closed_port()}"})
    with pytest.raises(EgressDenied):
        nats.test({"servers": "nats://127.0.0.1:4222"}, EgressPolicy(), 3)


def test_every_broker_node_describes_its_inputs_and_names_the_connection_type_it_picks():
    from flomation.executor.registry import manifest

    expected = {"mqtt": "mqtt", "amqp": "amqp", "redis": "redis", "nats": "nats"}
    nodes = [
        n
        for n in manifest()["nodes"]
        if n["action"].startswith("messagebrokers/") or n["action"] == "trigger/mqtt"
    ]
    assert len(nodes) == 9
    for entry in nodes:
        assert all(item["description"] for item in entry["inputs"]), entry["action"]
        if entry["action"].startswith("messagebrokers/"):
            family = entry["action"].split("/")[1]
            [picker] = [item for item in entry["inputs"] if item["type"] == "connection"]
            assert picker["connection"] == expected[family]
