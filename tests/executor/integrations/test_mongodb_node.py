"""nosql/mongodb. No MongoDB server can be installed on these machines (see docs/integrations.md), so the
operations run against mongomock's in-memory collections standing in for the server, while the egress
check, the input validation and the connection failures run for real."""

from __future__ import annotations

import socket

import mongomock
import pytest
from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.executor.providers import StaticSecrets

SERVER = {"host": "127.0.0.1", "port": 27017, "database": "shop", "collection": "orders"}


@pytest.fixture
def fake_server(monkeypatch):
    """pymongo's client replaced by an in-memory one; everything before it (the policy) is real."""
    store = mongomock.MongoClient()
    seen = []

    def client(**kwargs):
        seen.append(kwargs)
        return store

    monkeypatch.setattr("pymongo.MongoClient", client)
    monkeypatch.setattr(mongomock.MongoClient, "close", lambda self: None)
    store.seen = seen
    return store


def mg(node_id: str, operation: str, **inputs):
    return node(node_id, "nosql/mongodb", {**SERVER, "operation": operation, **inputs})


def test_insert_find_update_aggregate_delete_and_a_template_reads_a_result(fake_server):
    f = chain(
        mg("i", "insert", document=[{"sku": "a", "qty": 2}, {"sku": "b", "qty": 5}, {"sku": "c", "qty": 1}]),
        mg("u", "update", filter={"sku": "a"}, update={"$inc": {"qty": 10}}),
        mg("f", "find", filter={"qty": {"$gt": 1}}, sort={"qty": -1}, projection={"_id": 0}),
        mg("a", "aggregate", pipeline=[{"$group": {"_id": None, "total": {"$sum": "$qty"}}}]),
        mg("d", "delete", filter={"qty": {"$lt": 2}}, many=True),
        node("o", "output/set", {"name": "top", "value": "${f.results.0.sku}:${a.results.0.total}"}),
    )
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert len(outputs_of(result, "i")["inserted_ids"]) == 3
    assert all(isinstance(i, str) and len(i) == 24 for i in outputs_of(result, "i")["inserted_ids"])
    assert outputs_of(result, "u")["modified_count"] == 1
    assert outputs_of(result, "f")["results"] == [{"sku": "a", "qty": 12}, {"sku": "b", "qty": 5}]
    assert outputs_of(result, "d")["deleted_count"] == 1
    assert result.outputs == {"top": "a:18"}
    # The client was pointed at the checked address, one server only.
    assert fake_server.seen[0]["host"] == "127.0.0.1" and fake_server.seen[0]["directConnection"] is True


def test_extended_json_ids_and_the_row_cap(fake_server):
    inserted = fake_server.shop.orders.insert_many([{"n": i} for i in range(5)]).inserted_ids
    f = chain(mg("f", "find", filter={"_id": {"$oid": str(inserted[2])}}), mg("g", "find", max_rows=2))
    result, _ = run(f)
    assert outputs_of(result, "f")["results"] == [{"_id": str(inserted[2]), "n": 2}]
    assert outputs_of(result, "g")["row_count"] == 2


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"operation": "insert"}, "insert needs input 'document'"),
        ({"operation": "update", "filter": {}}, "update needs input 'update'"),
        ({"operation": "update", "update": {"$set": {"a": 1}}}, "update needs input 'filter'"),
        ({"operation": "delete"}, "delete needs input 'filter'"),
        ({"operation": "aggregate", "pipeline": {"$match": {}}}, "aggregate needs input 'pipeline'"),
        ({"operation": "find", "filter": "[1]"}, "input 'filter' must be an object"),
        ({"operation": "find", "filter": "{not json"}, "input 'filter' is not valid JSON"),
        ({"operation": "find", "collection": "$bad"}, "MongoDB error: collection names must not contain '$'"),
    ],
)
def test_inputs_are_checked_before_connecting(inputs, message):
    result, _ = run(chain(node("m", "nosql/mongodb", {**SERVER, **inputs})))
    assert result.status == "failed" and message in result.error


def test_the_egress_policy_refuses_before_any_connection():
    strict = ExecutorSettings(log=lambda *a: None)
    result, _ = run(chain(mg("m", "find")), settings=strict)
    assert "egress refused: 127.0.0.1 is a loopback address" in result.error
    result, _ = run(chain(mg("m", "find", host="169.254.169.254")), settings=strict)
    assert "link-local" in result.error
    result, _ = run(chain(mg("m", "find", uri="mongodb+srv://u:pw@cluster0.example.net/shop")))
    assert "SRV records" in result.error


def test_an_unreachable_server_is_named_and_a_stored_connection_is_used_without_showing_its_uri():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, _ = run(chain(mg("m", "find", port=port, timeout_seconds=1)))
    assert result.status == "failed" and "could not connect to 127.0.0.1" in result.error
    secrets = StaticSecrets(
        connections={
            "docs": {
                "type": "mongodb",
                "fields": {"uri": f"mongodb://app:very-secret-pw@127.0.0.1:{port}/shop"},
            }
        }
    )
    f = chain(
        node("m", "nosql/mongodb", {"connection": "docs", "collection": "orders", "timeout_seconds": 1})
    )
    result, _ = run(f, secrets=secrets)
    assert result.status == "failed" and "could not connect" in result.error
    assert "very-secret-pw" not in result.error


def test_a_wrong_password_is_an_authentication_failure(fake_server, monkeypatch):
    from pymongo.errors import OperationFailure

    def refuse(*args, **kwargs):
        raise OperationFailure("Authentication failed.", code=18)

    monkeypatch.setattr(mongomock.collection.Collection, "find", refuse)
    result, _ = run(chain(mg("m", "find", username="app", password="bad-pw-000")))
    assert result.status == "failed"
    assert "authentication failed for user 'app'" in result.error and "bad-pw-000" not in result.error
