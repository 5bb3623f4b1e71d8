"""trigger/mqtt against the machine's Mosquitto (127.0.0.1:1883) and a Mosquitto with a password file the
tests start: each poll runs the way the launch loop runs it, under the trigger's lease and cursor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
import pytest

from flomation.core.services.errors import FlowInvalid
from flomation.launch.loops import LaunchLoop
from flomation.launch.models import Trigger, TriggerLease
from flomation.launch.pollers.mqtt import client_id_for
from flomation.launch.services.timed import poller_run, timed_trigger_run
from tests.launch.conftest import trigger_node
from tests.support.brokers import MOSQUITTO, forget_session, mosquitto_with_password, require_server

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _mosquitto():
    require_server(MOSQUITTO, "Mosquitto")


@pytest.fixture(autouse=True)
def _sessions_discarded(world):
    """The machine's Mosquitto keeps each trigger's session: discard them so test runs leave none behind."""
    yield
    for trigger in Trigger.objects.filter(workflow=world.workflow, kind="mqtt"):
        if str(trigger.config.get("port") or 1883) == "1883":
            forget_session(client_id_for(trigger, trigger.config))


def publish(
    topic: str, payload: bytes, *, qos: int = 1, retain: bool = False, port: int = 1883, **auth
) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    if auth:
        client.username_pw_set(auth["username"], auth["password"])
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def deploy(world, topic: str, **inputs) -> Trigger:
    world.deploy(trigger_node("trigger/mqtt", {"host": "127.0.0.1", "port": 1883, "topic": topic, **inputs}))
    return world.trigger()


def poll(world) -> int:
    return poller_run(trigger=world.trigger(), now=NOW)


@pytest.mark.usefixtures("local_servers_allowed")
class TestMqttTrigger:
    def test_a_published_message_starts_exactly_one_run_carrying_topic_and_payload(self, world):
        base = f"flomation-test/{uuid.uuid4().hex[:8]}"
        deploy(world, f"{base}/+")
        assert poll(world) == 0  # the first poll subscribes
        publish(f"{base}/door", b'{"state": "open"}')
        assert poll(world) == 1
        [execution] = world.executions()
        data = execution.trigger_data
        assert data["topic"] == f"{base}/door" and data["payload"] == {"state": "open"}
        assert data["payload_text"] == '{"state": "open"}' and data["qos"] == 1
        assert poll(world) == 0  # acknowledged: nothing comes back
        assert len(world.executions()) == 1
        assert world.trigger().cursor["received"] == 1

    def test_messages_published_between_polls_are_kept_by_the_broker_and_started_in_order(self, world):
        topic = f"flomation-test/{uuid.uuid4().hex[:8]}"
        deploy(world, topic)
        poll(world)
        for index in range(3):
            publish(topic, str(index).encode())
        assert poll(world) == 3
        assert [e.trigger_data["payload"] for e in world.executions()] == ["0", "1", "2"]

    def test_a_retained_message_does_not_start_runs_unless_asked(self, world):
        topic = f"flomation-test/{uuid.uuid4().hex[:8]}"
        publish(topic, b"kept", retain=True)
        try:
            deploy(world, topic)
            assert poll(world) == 0 and poll(world) == 0
            deploy(world, topic, include_retained=True, client_id=f"flomation-t-{uuid.uuid4().hex[:8]}")
            assert poll(world) == 1
            assert world.executions()[0].trigger_data["retained"] is True
        finally:
            publish(topic, b"", retain=True)

    def test_messages_come_again_when_the_commit_fails(self, world):
        topic = f"flomation-test/{uuid.uuid4().hex[:8]}"
        deploy(world, topic)
        poll(world)
        publish(topic, b"once")
        Trigger.objects.filter(id=world.trigger().id).update(cursor_version=99)  # another process moved on
        stale = Trigger.objects.get(id=world.trigger().id)
        stale.cursor_version = 1
        assert poller_run(trigger=stale, now=NOW) == 0 and world.executions() == []
        assert poll(world) == 1  # not acknowledged: the broker sent it again
        assert world.executions()[0].trigger_data["payload"] == "once"
        assert poll(world) == 0

    def test_the_launch_loop_holds_the_lease_and_polls(self, world):
        topic = f"flomation-test/{uuid.uuid4().hex[:8]}"
        trigger = deploy(world, topic, interval=5)
        clock = {"now": NOW}
        first, second = (
            LaunchLoop(owner="a", now=lambda: clock["now"]),
            LaunchLoop(owner="b", now=lambda: clock["now"]),
        )
        first.handle_one()
        assert TriggerLease.objects.get(trigger=trigger).owner == "a"
        publish(topic, b"hello")
        clock["now"] += timedelta(seconds=5)
        second.handle_one()  # another process: the lease is not its own, it polls nothing
        assert world.executions() == []
        first.handle_one()
        assert [e.trigger_data["payload"] for e in world.executions()] == ["hello"]

    def test_a_wrong_password_shows_as_the_triggers_error_without_the_password(self, world, tmp_path):
        with mosquitto_with_password(tmp_path) as broker:
            world.deploy(trigger_node("trigger/mqtt", {"host": broker.host, "port": broker.port, "topic": "a/b",
                                                       "username": broker.username, "password": "wrong-pw"}))  # fmt: skip
            assert timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW) is False
            error = world.trigger().last_error
            assert "authentication failed" in error and "wrong-pw" not in error

    def test_with_the_right_password_a_message_starts_a_run(self, world, tmp_path):
        with mosquitto_with_password(tmp_path) as broker:
            auth = {"username": broker.username, "password": broker.password}
            world.deploy(
                trigger_node(
                    "trigger/mqtt", {"host": broker.host, "port": broker.port, "topic": "a/b", **auth}
                )
            )
            assert poll(world) == 0
            publish("a/b", b"secured", port=broker.port, **auth)
            assert poll(world) == 1
            assert world.trigger().last_error == ""

    def test_a_stored_connection_brings_the_broker_and_its_login(self, world, tmp_path):
        from flomation.core.services.connections import connection_create

        with mosquitto_with_password(tmp_path) as broker:
            fields = {"host": broker.host, "port": broker.port, "username": broker.username}
            connection_create(
                organisation=world.organisation,
                name="plant-broker",
                type="mqtt",
                fields={**fields, "password": broker.password},
            )
            world.deploy(trigger_node("trigger/mqtt", {"connection": "plant-broker", "topic": "a/b"}))
            assert broker.password not in str(world.trigger().config)
            assert poll(world) == 0
            publish(
                "a/b",
                b"via the connection",
                port=broker.port,
                username=broker.username,
                password=broker.password,
            )
            assert poll(world) == 1
            assert world.executions()[0].trigger_data["payload_text"] == "via the connection"


def test_the_strict_egress_policy_refuses_a_broker_on_loopback(world):
    deploy(world, "a/b")
    assert timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW) is False
    assert "egress refused" in world.trigger().last_error and "loopback" in world.trigger().last_error


def test_an_unreachable_broker_shows_as_the_triggers_error(world, settings):
    settings.EGRESS_ALLOW = ["127.0.0.0/8"]
    world.deploy(trigger_node("trigger/mqtt", {"host": "127.0.0.1", "port": 1, "topic": "a/b"}))
    assert timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW) is False
    assert "connection refused" in world.trigger().last_error


def test_a_topic_filter_with_a_misplaced_wildcard_is_refused_at_deploy(world):
    with pytest.raises(FlowInvalid):
        deploy(world, "sensors/#/temperature")


@pytest.mark.usefixtures("local_servers_allowed")
def test_a_broker_that_lost_the_session_is_subscribed_again(world):
    topic = f"flomation-test/{uuid.uuid4().hex[:8]}"
    trigger = deploy(world, topic)
    poll(world)
    # The broker forgets the session (a restart without persistence): a clean connection with its id.
    forget_session(client_id_for(trigger, trigger.config))
    assert poll(world) == 0  # subscribes again
    publish(topic, b"after")
    assert poll(world) == 1


@pytest.mark.usefixtures("local_servers_allowed")
def test_a_new_topic_replaces_the_old_subscription(world):
    base = f"flomation-test/{uuid.uuid4().hex[:8]}"
    deploy(world, f"{base}/old")
    poll(world)
    deploy(world, f"{base}/new")
    assert poll(world) == 0
    publish(f"{base}/old", b"old")
    publish(f"{base}/new", b"new")
    assert poll(world) == 1
    assert [e.trigger_data["payload"] for e in world.executions()] == ["new"]
