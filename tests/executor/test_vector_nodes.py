"""vectordatabase/pgvector/* nodes against an external PostgreSQL with pgvector (the embedded test server,
reached over loopback TCP through the egress policy), embedding through a loopback OpenAI-compatible
/embeddings endpoint that checks the exact request."""

from __future__ import annotations

import contextlib
import json

import psycopg
import pytest
from django.db import connection

from flomation.executor.settings import ExecutorSettings
from flomation.lib.egress import EgressPolicy
from tests.executor.conftest import outputs_of, run_node
from tests.support.pg_tcp import tcp_to_unix

pytestmark = pytest.mark.django_db
SCHEMA = "external_vectors"


@pytest.fixture
def server(db):
    """Inline connection inputs of the test database over loopback TCP, in a schema of its own."""
    settings = connection.settings_dict
    with contextlib.ExitStack() as stack:
        host, port = settings["HOST"], int(settings["PORT"])
        if host.startswith("/"):
            host, port = "127.0.0.1", stack.enter_context(tcp_to_unix(settings["HOST"], port))
        inputs = {"host": host, "port": port, "username": settings["USER"], "password": settings["PASSWORD"],
                  "database": settings["NAME"], "ssl_mode": "disable", "schema": SCHEMA}  # fmt: skip
        params = {"host": host, "port": port, "user": settings["USER"], "dbname": settings["NAME"],
                  "password": settings["PASSWORD"] or None}  # fmt: skip
        with psycopg.connect(autocommit=True, **params) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        yield inputs
        with psycopg.connect(autocommit=True, **params) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def ok(action, inputs):
    result = run_node(action, inputs)
    record = result.node_results["n"]
    assert record["status"] == "success", record.get("error")
    return outputs_of(result)


def failed(action, inputs, **kwargs):
    record = run_node(action, inputs, **kwargs).node_results["n"]
    assert record["status"] == "failed"
    return record["error"]


def embeddings_server(http_server, vectors):
    def answer(handler):
        body = json.loads(http_server.requests[-1]["body"])
        data = [
            {"object": "embedding", "index": i, "embedding": vectors[text]}
            for i, text in enumerate(body["input"])
        ]
        return (
            200,
            {"Content-Type": "application/json"},
            {"object": "list", "data": data, "model": body["model"]},
        )

    http_server.routes["/v1/embeddings"] = answer
    return {"embedding_source": "inline", "provider": "openai_compatible", "base_url": f"{http_server.url}/v1",
            "api_key": "sk-test-key", "model": "tiny-embed"}  # fmt: skip


def test_documents_embedded_by_the_model_are_found_by_meaning_and_by_keyword(server, http_server):
    vectors = {"Parcels travel north": [1.0, 0.0], "Invoice FLM-4021 is late": [0.0, 1.0],
               "where is my parcel": [0.9, 0.1]}  # fmt: skip
    embed = embeddings_server(http_server, vectors)
    made = ok("vectordatabase/pgvector/create_collection", {**server, "collection": "kb", "dimension": 2})
    assert made["created"] is True and made["collection"]["metric"] == "cosine"
    documents = [{"id": "a", "content": "Parcels travel north", "metadata": {"lang": "en"}},
                 {"id": "b", "content": "Invoice FLM-4021 is late"}]  # fmt: skip
    written = ok(
        "vectordatabase/pgvector/upsert", {**server, **embed, "collection": "kb", "documents": documents}
    )
    assert written == {"ids": ["a", "b"], "count": 2, "success": True}
    first = http_server.requests[0]
    assert first["method"] == "POST" and first["path"] == "/v1/embeddings"
    assert first["headers"]["Authorization"] == "Bearer sk-test-key"
    assert json.loads(first["body"]) == {
        "model": "tiny-embed",
        "input": ["Parcels travel north", "Invoice FLM-4021 is late"],
    }

    found = ok("vectordatabase/pgvector/query", {**server, **embed, "collection": "kb",
                                                 "query_text": "where is my parcel", "limit": 1})  # fmt: skip
    assert (
        found["count"] == 1
        and found["top_result"]["id"] == "a"
        and found["context"] == "Parcels travel north"
    )
    assert json.loads(http_server.requests[-1]["body"])["input"] == ["where is my parcel"]

    hybrid = ok("vectordatabase/pgvector/hybrid_search", {**server, "collection": "kb", "embedding": [1, 0],
                                                          "query_text": "FLM-4021", "limit": 2})  # fmt: skip
    # "a" is first by meaning only (1/61); "b" second by meaning and the only keyword match (1/62 + 1/61).
    assert [(row["id"], row["vector_rank"], row["text_rank"]) for row in hybrid["results"]] == [
        ("b", 2, 1),
        ("a", 1, None),
    ]
    assert hybrid["results"][0]["score"] == pytest.approx(1 / 62 + 1 / 61)


def test_given_vectors_are_stored_listed_filtered_and_deleted(server):
    ok("vectordatabase/pgvector/create_collection",
       {**server, "collection": "kb", "dimension": 3, "distance_metric": "euclidean"})  # fmt: skip
    for doc_id, vector, source in (("x", [0, 0, 1], "a"), ("y", [0, 1, 0], "b")):
        ok("vectordatabase/pgvector/upsert", {**server, "collection": "kb", "id": doc_id, "content": doc_id,
                                              "metadata": {"source": source}, "embedding": vector})  # fmt: skip
    listed = ok("vectordatabase/pgvector/list_collections", server)
    assert [(c["name"], c["metric"], c["documents"]) for c in listed["collections"]] == [("kb", "l2", 2)]
    only_b = ok("vectordatabase/pgvector/query", {**server, "collection": "kb", "embedding": [0, 0, 1],
                                                  "metadata_filter": {"source": "b"}})  # fmt: skip
    assert [row["id"] for row in only_b["results"]] == ["y"]
    assert ok("vectordatabase/pgvector/delete", {**server, "collection": "kb", "id": "x"})["deleted"] == 1
    gone = ok("vectordatabase/pgvector/delete", {**server, "collection": "kb", "delete_collection": True})
    assert gone["deleted"] == 1
    assert ok("vectordatabase/pgvector/list_collections", server)["collections"] == []


def test_mistakes_fail_the_node_with_a_sentence(server):
    error = failed("vectordatabase/pgvector/query", {**server, "collection": "nope", "embedding": [1, 0]})
    assert "there is no collection 'nope'" in error
    ok("vectordatabase/pgvector/create_collection", {**server, "collection": "kb", "dimension": 2})
    error = failed("vectordatabase/pgvector/query", {**server, "collection": "kb", "embedding": [1, 0, 0]})
    assert "has 3 dimensions but the collection holds 2-dimensional" in error


def test_the_egress_policy_refuses_a_database_on_loopback_unless_allowed(server):
    settings = ExecutorSettings(log=lambda level, message, fields: None, egress=EgressPolicy.build())
    error = failed("vectordatabase/pgvector/list_collections", server, settings=settings)
    assert error.startswith("egress refused: 127.0.0.1 is a loopback address")


def test_the_organisations_store_is_only_reached_through_a_runner():
    error = failed("vectordatabase/pgvector/list_collections", {})
    assert "reached through a runner" in error


def test_a_failing_embedding_service_is_named_without_the_key(server, http_server):
    http_server.routes["/v1/embeddings"] = (401, {"Content-Type": "application/json"},
                                            {"error": {"message": "Incorrect API key provided"}})  # fmt: skip
    ok("vectordatabase/pgvector/create_collection", {**server, "collection": "kb", "dimension": 2})
    error = failed("vectordatabase/pgvector/upsert", {**server, "collection": "kb", "content": "hello",
                   "embedding_source": "inline", "base_url": f"{http_server.url}/v1", "api_key": "sk-secret-xyz",
                   "provider": "openai_compatible"})  # fmt: skip
    assert (
        "answered 401 (check the API key): Incorrect API key provided" in error
        and "sk-secret-xyz" not in error
    )


def test_a_large_upsert_to_the_platform_store_is_split_into_requests_the_api_accepts():
    from flomation.executor.nodes.vectors import MAX_REQUEST_BYTES, _parts

    documents = [{"id": str(n), "embedding": [0.123456789] * 1536} for n in range(300)]
    parts = _parts(documents)
    assert len(parts) > 1 and [d for part in parts for d in part] == documents
    assert all(len(json.dumps(part)) <= MAX_REQUEST_BYTES for part in parts)
