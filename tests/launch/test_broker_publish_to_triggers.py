"""End to end: a flow publishes with a broker node, and the platform's own trigger reading that broker starts
exactly one run carrying the message (RabbitMQ with trigger/queue, Mosquitto with trigger/mqtt)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from kombu import Connection

from flomation.executor import ExecutorSettings, run_flow
from flomation.launch.pollers.mqtt import client_id_for
from flomation.launch.services.timed import poller_run
from flomation.lib.egress import EgressPolicy
from tests.launch.conftest import trigger_node
from tests.support.brokers import MOSQUITTO, RABBITMQ, forget_session, require_server

NOW = datetime(2030, 1, 1, tzinfo=UTC)
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"

pytestmark = pytest.mark.usefixtures("local_servers_allowed")


def publishing_flow(action: str, inputs: dict[str, Any]) -> dict[str, Any]:
    def flow_node(node_id: str, node_action: str, values: dict[str, Any], class_type: int) -> dict[str, Any]:
        config_inputs = [{"name": k, "type": "string", "value": v} for k, v in values.items()]
        return {"id": node_id, "type": node_action,
                "data": {"id": node_id, "label": node_action,
                         "config": {"id": node_id, "type": class_type, "inputs": config_inputs, "outputs": []}}}  # fmt: skip

    return {
        "nodes": [flow_node("t", "trigger/manual", {}, 1), flow_node("pub", action, inputs, 2)],
        "edges": [{"id": "e", "source": "t", "target": "pub"}],
    }


def run_publishing_flow(action: str, inputs: dict[str, Any]) -> None:
    settings = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy.build(allow=["127.0.0.0/8"]))
    result = run_flow(publishing_flow(action, inputs), settings=settings)
    assert result.status == "succeeded", result.error


def test_a_message_a_flow_publishes_to_rabbitmq_starts_one_queue_trigger_run(world):
    require_server(RABBITMQ, "RabbitMQ")
    queue = f"launch-publish-{uuid.uuid4().hex[:8]}"
    world.deploy(trigger_node("trigger/queue", {"broker_url": AMQP_URL, "queue": queue, "interval": 5}))
    try:
        run_publishing_flow("messagebrokers/amqp/publish", {"url": AMQP_URL, "queue": queue,
                                                            "payload": {"order": 7}, "message_id": "order-7"})  # fmt: skip
        assert poller_run(trigger=world.trigger(), now=NOW) == 1
        assert poller_run(trigger=world.trigger(), now=NOW) == 0
        [execution] = world.executions()
        assert execution.trigger_data["body"] == {"order": 7}
        assert execution.trigger_data["message_id"] == "order-7"
        assert execution.trigger_data["content_type"] == "application/json"
    finally:
        with Connection(AMQP_URL) as connection:
            connection.channel().queue_delete(queue)


def test_a_message_a_flow_publishes_to_mosquitto_starts_one_mqtt_trigger_run(world):
    require_server(MOSQUITTO, "Mosquitto")
    topic = f"flomation-test/{uuid.uuid4().hex[:8]}"
    world.deploy(trigger_node("trigger/mqtt", {"host": "127.0.0.1", "topic": topic}))
    assert poller_run(trigger=world.trigger(), now=NOW) == 0  # subscribes
    run_publishing_flow("messagebrokers/mqtt/publish", {"host": "127.0.0.1", "topic": topic, "qos": 1,
                                                        "payload": {"level": 3}})  # fmt: skip
    assert poller_run(trigger=world.trigger(), now=NOW) == 1
    assert poller_run(trigger=world.trigger(), now=NOW) == 0
    [execution] = world.executions()
    assert execution.trigger_data["topic"] == topic and execution.trigger_data["payload"] == {"level": 3}
    # The run it starts reads the message through the trigger's outputs.
    flow = {
        "nodes": [
            {"id": "t1", "type": "trigger/mqtt",
             "data": {"id": "t1", "label": "trigger/mqtt", "config": {"id": "t1", "type": 1, "inputs": []}}},
            {"id": "o", "type": "output/set",
             "data": {"id": "o", "label": "output/set", "config": {"id": "o", "type": 3, "inputs": [
                 {"name": "name", "type": "string", "value": "level"},
                 {"name": "value", "type": "string", "value": "${t1.payload.level} from ${t1.topic}"}]}}},
        ],
        "edges": [{"id": "e", "source": "t1", "target": "o"}],
    }  # fmt: skip
    forget_session(client_id_for(world.trigger(), world.trigger().config))
    result = run_flow(flow, trigger_data=execution.trigger_data)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"level": f"3 from {topic}"}
