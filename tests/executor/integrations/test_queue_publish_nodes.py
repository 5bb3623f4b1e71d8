"""Publishing to RabbitMQ (127.0.0.1:5672), Redis streams (127.0.0.1:6379) and NATS (127.0.0.1:4222, and a
nats-server with a token started here); a consumer in the test receives exactly the message sent."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid

import pytest
import redis
from conftest import chain, node, outputs_of, run, run_node
from kombu import Connection

from flomation.executor.providers import StaticSecrets
from tests.support.brokers import (
    NATS,
    RABBITMQ,
    REDIS,
    closed_port,
    nats_with_tls,
    nats_with_token,
    require_server,
)

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def name(prefix: str) -> str:
    return f"flomation-test-{prefix}-{uuid.uuid4().hex[:8]}"


# --- AMQP ---------------------------------------------------------------------------------------------------


@pytest.fixture
def rabbit_queue():
    require_server(RABBITMQ, "RabbitMQ")
    queue_name = name("q")
    with Connection(AMQP_URL) as connection:
        yield queue_name, connection
        channel = connection.channel()
        channel.queue_delete(queue_name)


def received(connection: Connection, queue_name: str):
    queue = connection.SimpleQueue(queue_name)
    try:
        message = queue.get(timeout=5)
        message.ack()
        return message
    finally:
        queue.close()


def test_amqp_publish_puts_the_message_on_the_queue_and_a_later_node_reads_the_result(rabbit_queue):
    queue_name, connection = rabbit_queue
    f = chain(
        node("pub", "messagebrokers/amqp/publish",
             {"host": "127.0.0.1", "username": "guest", "password": "guest", "queue": queue_name,
              "payload": {"order": 42}, "message_id": "order-42", "headers": [{"key": "source", "value": "flow"}]}),
        node("o", "output/set", {"name": "sent", "value": "${pub.routing_key}/${pub.message_id}"}),
    )  # fmt: skip
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"sent": f"{queue_name}/order-42"}
    message = received(connection, queue_name)
    assert message.decode() == {"order": 42}
    assert message.content_type == "application/json"
    assert message.properties["message_id"] == "order-42"
    assert message.headers["source"] == "flow"


def test_amqp_publish_with_a_url_from_a_stored_connection_sends_text_as_text(rabbit_queue):
    queue_name, connection = rabbit_queue
    secrets = StaticSecrets(connections={"rabbit": {"type": "amqp", "fields": {"url": AMQP_URL}}})
    result = run_node(
        "messagebrokers/amqp/publish",
        {"connection": "rabbit", "queue": queue_name, "payload": "hello"},
        secrets=secrets,
    )
    assert result.status == "succeeded", result.error
    message = received(connection, queue_name)
    assert message.decode() == "hello" and message.content_type == "text/plain"


def test_amqp_publish_with_a_wrong_password_says_so_without_the_password():
    require_server(RABBITMQ, "RabbitMQ")
    result = run_node(
        "messagebrokers/amqp/publish",
        {"host": "127.0.0.1", "username": "guest", "password": "wrong-pw", "queue": name("q")},
    )
    assert result.status == "failed"
    assert "authentication failed for user 'guest'" in result.error and "wrong-pw" not in result.error


def test_amqp_publish_to_an_unreachable_broker_fails_with_the_reason():
    result = run_node(
        "messagebrokers/amqp/publish", {"host": "127.0.0.1", "port": closed_port(), "queue": "q"}
    )
    assert result.status == "failed" and "connection refused" in result.error


# --- Redis streams ------------------------------------------------------------------------------------------


@pytest.fixture
def redis_server():
    require_server(REDIS, "Redis")
    client = redis.Redis(host=REDIS[0], port=REDIS[1])
    user, password = name("user"), "stream-pw"
    client.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all"])
    keys: list[str] = []
    yield client, user, password, keys
    client.acl_deluser(user)
    for key in keys:
        client.delete(key)
    client.close()


def test_stream_add_appends_an_entry_a_reader_sees_and_a_later_node_reads_its_id(redis_server):
    client, user, password, keys = redis_server
    stream = name("stream")
    keys.append(stream)
    f = chain(
        node("add", "messagebrokers/redis/stream_add",
             {"host": "127.0.0.1", "username": user, "password": password, "stream": stream,
              "fields": {"order": "42", "items": [1, 2]}}),
        node("o", "output/set", {"name": "id", "value": "${add.id}"}),
    )  # fmt: skip
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    entries = client.xrange(stream)
    assert len(entries) == 1
    entry_id, values = entries[0]
    assert result.outputs == {"id": entry_id.decode()}
    assert values == {b"order": b"42", b"items": b"[1,2]"}
    assert outputs_of(result, "add")["length"] == 1


def test_stream_add_trims_to_the_maximum_length_with_a_stored_connection(redis_server):
    client, user, password, keys = redis_server
    stream = name("stream")
    keys.append(stream)
    secrets = StaticSecrets(
        connections={"cache": {"type": "redis", "fields": {"host": "127.0.0.1", "port": 6379, "username": user,
                                                          "password": password}}}
    )  # fmt: skip
    for index in range(300):
        client.xadd(stream, {"n": index})
    result = run_node(
        "messagebrokers/redis/stream_add",
        {"connection": "cache", "stream": stream, "payload": {"n": "last"}, "max_length": 10},
        secrets=secrets,
    )
    assert result.status == "succeeded", result.error
    assert client.xlen(stream) < 300
    assert json.loads(client.xrevrange(stream, count=1)[0][1][b"payload"]) == {"n": "last"}


def test_stream_add_with_a_wrong_password_says_so_without_the_password(redis_server):
    _client, user, _password, _keys = redis_server
    result = run_node(
        "messagebrokers/redis/stream_add",
        {"host": "127.0.0.1", "username": user, "password": "not-it", "stream": "s", "payload": "x"},
    )
    assert result.status == "failed"
    assert f"authentication failed for user '{user}'" in result.error and "not-it" not in result.error


def test_stream_add_to_an_unreachable_server_fails_with_the_reason():
    result = run_node(
        "messagebrokers/redis/stream_add",
        {"host": "127.0.0.1", "port": closed_port(), "stream": "s", "payload": "x"},
    )
    assert result.status == "failed" and "connection refused" in result.error


# --- NATS ---------------------------------------------------------------------------------------------------


class NatsListener:
    """A subscriber on its own event loop in a thread."""

    def __init__(self, servers: str, subject: str, **auth: str) -> None:
        self.messages: list = []
        self.ready = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(
            target=asyncio.run, args=(self._run(servers, subject, auth),), daemon=True
        )

    async def _run(self, servers: str, subject: str, auth: dict) -> None:
        import nats

        client = await nats.connect(servers=[servers], **auth)
        await client.subscribe(subject, cb=self._received)
        await client.flush()
        self.ready.set()
        while not self.done.is_set():
            await asyncio.sleep(0.02)
        await client.close()

    async def _received(self, message) -> None:
        self.messages.append(message)

    def __enter__(self) -> NatsListener:
        self.thread.start()
        assert self.ready.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join(5)

    def wait(self) -> list:
        for _ in range(250):
            if self.messages:
                break
            threading.Event().wait(0.02)
        return self.messages


def test_nats_publish_delivers_the_message_and_a_later_node_reads_the_result():
    require_server(NATS, "NATS")
    subject = name("subject").replace("-", ".")
    with NatsListener("nats://127.0.0.1:4222", subject) as listener:
        f = chain(
            node("pub", "messagebrokers/nats/publish",
                 {"servers": "nats://127.0.0.1:4222", "subject": subject, "payload": {"ok": True},
                  "headers": [{"key": "Trace", "value": "t-1"}]}),
            node("o", "output/set", {"name": "subject", "value": "${pub.subject}"}),
        )  # fmt: skip
        result, _ = run(f)
        messages = listener.wait()
    assert result.status == "succeeded", result.error
    assert result.outputs == {"subject": subject}
    assert [m.data for m in messages] == [b'{"ok":true}']
    # The node's idempotency key rides along as JetStream's de-duplication id.
    assert messages[0].headers == {"Trace": "t-1", "Nats-Msg-Id": messages[0].headers["Nats-Msg-Id"]}
    assert messages[0].headers["Nats-Msg-Id"].startswith("flo-")


def test_nats_publish_with_a_token_from_a_stored_connection_and_with_a_wrong_token():
    with nats_with_token() as server:
        servers = f"nats://{server.host}:{server.port}"
        subject = "orders.created"
        secrets = StaticSecrets(
            connections={"bus": {"type": "nats", "fields": {"servers": servers, "token": server.token}}}
        )
        with NatsListener(servers, subject, token=server.token) as listener:
            good = run_node("messagebrokers/nats/publish", {"connection": "bus", "subject": subject, "payload": "hi"},
                            secrets=secrets)  # fmt: skip
            assert good.status == "succeeded", good.error
            assert [m.data for m in listener.wait()] == [b"hi"]
        bad = run_node(
            "messagebrokers/nats/publish", {"servers": servers, "token": "nope-token", "subject": subject}
        )
    assert bad.status == "failed"
    assert "authentication failed" in bad.error and "nope-token" not in bad.error


def test_nats_publish_to_an_unreachable_server_fails_with_the_reason():
    result = run_node(
        "messagebrokers/nats/publish", {"servers": f"nats://127.0.0.1:{closed_port()}", "subject": "a"}
    )
    assert result.status == "failed" and "connection refused" in result.error


def test_amqp_publish_to_a_missing_exchange_fails_with_the_brokers_reason():
    require_server(RABBITMQ, "RabbitMQ")
    missing = name("exchange")
    result = run_node(
        "messagebrokers/amqp/publish",
        {"url": AMQP_URL, "exchange": missing, "routing_key": "a", "payload": "x"},
    )
    assert result.status == "failed" and f"no exchange '{missing}'" in result.error


def test_nats_over_tls_checks_the_certificate_against_the_servers_name(tmp_path):
    from flomation.executor import ExecutorSettings
    from flomation.lib.egress import EgressPolicy

    settings = ExecutorSettings(
        log=lambda *a: None, egress=EgressPolicy.build(allow=["127.0.0.0/8", "::1/128"])
    )
    with nats_with_tls(tmp_path) as (server, ca_pem):
        good = run_node("messagebrokers/nats/publish",
                        {"servers": f"tls://localhost:{server.port}", "subject": "a", "ca_certificate": ca_pem},
                        settings=settings)  # fmt: skip
        assert good.status == "succeeded", good.error
        untrusted = run_node("messagebrokers/nats/publish", {"servers": f"tls://localhost:{server.port}", "subject": "a"},
                             settings=settings)  # fmt: skip
        assert untrusted.status == "failed" and "TLS" in untrusted.error
        by_address = run_node("messagebrokers/nats/publish",
                              {"servers": f"tls://127.0.0.1:{server.port}", "subject": "a", "ca_certificate": ca_pem},
                              settings=settings)  # fmt: skip
        assert by_address.status == "failed" and "mismatch" in by_address.error
