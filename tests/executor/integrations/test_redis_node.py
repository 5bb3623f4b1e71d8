"""nosql/redis against the Redis server on this machine (127.0.0.1:6379)."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
import redis
from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.executor.providers import StaticSecrets

SERVER = {"host": "127.0.0.1", "port": 6379}


@pytest.fixture
def key():
    name = f"flo:test:{uuid.uuid4().hex[:10]}"
    yield name
    redis.Redis(host="127.0.0.1").delete(name, name + ":h", name + ":l")


def rd(node_id: str, operation: str, **inputs):
    return node(node_id, "nosql/redis", {**SERVER, "operation": operation, **inputs})


def test_set_with_expiry_then_get_and_a_template_reads_the_value(key):
    f = chain(
        rd("s", "set", key=key, value={"n": 1}, ttl_seconds=60),
        rd("g", "get", key=key),
        node("o", "output/set", {"name": "got", "value": "${g.result}"}),
    )
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "s")["result"] is True
    assert outputs_of(result, "g")["found"] is True
    assert result.outputs == {"got": '{"n": 1}'}
    assert 0 < redis.Redis(host="127.0.0.1").ttl(key) <= 60


def test_counters_expiry_delete_hashes_and_lists(key):
    f = chain(
        rd("i1", "incr", key=key),
        rd("i2", "incr", key=key, value=5),
        rd("e", "expire", key=key, ttl_seconds=30),
        rd("d", "del", key=key),
        rd("g", "get", key=key),
        rd("hs", "hset", key=key + ":h", value={"a": 1, "b": "two"}),
        rd("hs2", "hset", key=key + ":h", field="c", value="3"),
        rd("hg", "hget", key=key + ":h", field="b"),
        rd("ha", "hgetall", key=key + ":h"),
        rd("rp", "rpush", key=key + ":l", value=["x", "y"]),
        rd("lp", "lpush", key=key + ":l", value="w"),
        rd("lr", "lrange", key=key + ":l"),
        rd("po", "lpop", key=key + ":l"),
        rd("pr", "rpop", key=key + ":l"),
    )
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    got = {
        n: outputs_of(result, n)["result"]
        for n in ("i1", "i2", "e", "d", "hs", "hs2", "hg", "ha", "rp", "lr", "po", "pr")
    }
    assert got == {
        "i1": 1, "i2": 6, "e": True, "d": 1, "hs": 2, "hs2": 1, "hg": "two",
        "ha": {"a": "1", "b": "two", "c": "3"}, "rp": 2, "lr": ["w", "x", "y"], "po": "w", "pr": "y",
    }  # fmt: skip
    assert outputs_of(result, "g") == {"result": None, "found": False, "success": True}


def test_publish_reaches_a_subscriber(key):
    listener = redis.Redis(host="127.0.0.1").pubsub()
    listener.subscribe(key)
    assert listener.get_message(timeout=2)["type"] == "subscribe"
    result, _ = run(chain(rd("p", "publish", key=key, value={"event": "done"})))
    assert outputs_of(result, "p")["result"] == 1
    message = listener.get_message(timeout=2)
    assert message["data"] == b'{"event": "done"}'
    listener.close()


@pytest.fixture
def acl_user():
    name = f"flo_{uuid.uuid4().hex[:8]}"
    admin = redis.Redis(host="127.0.0.1")
    admin.acl_setuser(
        name, enabled=True, passwords=["+good-pass"], keys=["flo:*"], channels=["*"], commands=["+@all"]
    )
    yield name
    admin.acl_deluser(name)


def test_a_wrong_password_fails_as_authentication_without_the_password(acl_user, key):
    good = {"username": acl_user, "password": "good-pass"}
    result, _ = run(chain(rd("s", "set", key=key, value="v", **good)))
    assert result.status == "succeeded", result.error
    result, _ = run(chain(rd("s", "get", key=key, username=acl_user, password="wrong-pass-1")))
    assert result.status == "failed"
    assert (
        f"authentication failed for user '{acl_user}'" in result.error and "wrong-pass-1" not in result.error
    )


def test_an_unreachable_server_a_missing_input_and_the_egress_policy(key):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, _ = run(chain(rd("g", "get", key=key, port=port)))
    assert result.status == "failed" and "connection refused" in result.error
    result, _ = run(chain(rd("g", "set", key=key)))
    assert result.error == "input 'value' is required for set"
    result, _ = run(chain(rd("g", "get", key=key)), settings=ExecutorSettings(log=lambda *a: None))
    assert "egress refused: 127.0.0.1 is a loopback address" in result.error


def test_a_stored_connection_with_tls_off(acl_user, key):
    secrets = StaticSecrets(
        connections={
            "cache": {
                "type": "redis",
                "fields": {
                    "host": "127.0.0.1",
                    "port": 6379,
                    "username": acl_user,
                    "password": "good-pass",
                    "tls": False,
                },
            }
        }
    )
    f = chain(
        node("s", "nosql/redis", {"connection": "cache", "operation": "set", "key": key, "value": "hi"}),
        node("g", "nosql/redis", {"connection": "cache", "operation": "get", "key": key}),
    )
    result, _ = run(f, secrets=secrets)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "g")["result"] == "hi"


def test_a_command_that_hangs_is_cut_at_the_time_limit(key):
    # A server that accepts the connection and never answers.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    result, _ = run(chain(rd("g", "get", key=key, port=server.getsockname()[1], timeout_seconds=1)))
    assert result.status == "failed" and "timed out" in result.error
    server.close()


def test_tls_is_spoken_to_the_checked_address_and_a_plain_server_fails_the_handshake(key):
    result, _ = run(chain(rd("g", "get", key=key, tls=True, timeout_seconds=2)))
    assert result.status == "failed" and "TLS failed with 127.0.0.1:6379" in result.error
