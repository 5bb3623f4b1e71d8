"""The platform's vector store on the embedded PostgreSQL with pgvector: collections, the three metrics,
metadata filters, hybrid search, each collection's HNSW index, and organisation walls."""

from __future__ import annotations

import random
import uuid

import pytest
from django.db import connection

from flomation.core.selectors.vectors import vector_collections_list
from flomation.core.services.vectors import vector_collection_delete, vector_operation_run
from flomation.lib.vectors import VectorError
from flomation.lib.vectors.schema import index_name

pytestmark = pytest.mark.django_db

DOCS = [
    {"id": "north", "content": "Parcels travel north by train", "metadata": {"kind": "travel"},
     "embedding": [1.0, 0.0, 0.0]},
    {"id": "east", "content": "Invoices are paid at the end of the month", "metadata": {"kind": "money"},
     "embedding": [0.0, 1.0, 0.0]},
    {"id": "mostly-north", "content": "Order FLM-4021 was lost", "metadata": {"kind": "travel"},
     "embedding": [0.9, 0.1, 0.0]},
]  # fmt: skip


def run(org, operation, **payload):
    return vector_operation_run(organisation_id=org, operation=operation, payload=payload)


@pytest.fixture
def org():
    organisation = uuid.uuid4()
    run(organisation, "create_collection", name="handbook", dimension=3, metric="cosine")
    run(organisation, "upsert", collection="handbook", documents=DOCS)
    return organisation


def test_a_query_returns_the_nearest_documents_first_with_cosine_similarity(org):
    results = run(org, "query", collection="handbook", embedding=[1, 0, 0], top_k=2)["results"]
    assert [row["id"] for row in results] == ["north", "mostly-north"]
    assert results[0]["score"] == pytest.approx(1.0) and results[0]["distance"] == pytest.approx(0.0)
    assert results[0]["metadata"] == {"kind": "travel"} and results[0]["content"].startswith("Parcels")


def test_an_upsert_of_an_existing_id_overwrites_it(org):
    run(org, "upsert", collection="handbook",
        documents=[{"id": "east", "content": "now north", "embedding": [1, 0, 0]}])  # fmt: skip
    results = run(org, "query", collection="handbook", embedding=[1, 0, 0], top_k=3)["results"]
    assert {row["id"] for row in results[:2]} == {"north", "east"}
    assert vector_collections_list(organisation_id=org)[0]["documents"] == 3


@pytest.mark.parametrize(
    ("metric", "order", "first_score"),
    [
        ("l2", ["b", "a", "c"], -0.0),
        ("inner_product", ["c", "b", "a"], 20.0),
        ("euclidean", ["b", "a", "c"], 0.0),
    ],
)
def test_each_metric_orders_by_its_own_distance(metric, order, first_score):
    org = uuid.uuid4()
    run(org, "create_collection", name="m", dimension=2, metric=metric)
    run(org, "upsert", collection="m", documents=[
        {"id": "a", "embedding": [1, 0]}, {"id": "b", "embedding": [2, 0]}, {"id": "c", "embedding": [10, 0]}])  # fmt: skip
    results = run(org, "query", collection="m", embedding=[2, 0], top_k=3)["results"]
    assert [row["id"] for row in results] == order
    assert results[0]["score"] == pytest.approx(first_score)


def test_a_metadata_filter_keeps_only_matching_documents(org):
    results = run(org, "query", collection="handbook", embedding=[0, 1, 0], top_k=5,
                  metadata_filter=[{"key": "kind", "value": "travel"}])["results"]  # fmt: skip
    assert [row["id"] for row in results] == ["mostly-north", "north"]


def test_hybrid_search_brings_an_exact_token_match_up_by_reciprocal_rank_fusion(org):
    results = run(org, "hybrid_search", collection="handbook", embedding=[0, 1, 0], text="FLM-4021",
                  top_k=3, rrf_k=60)["results"]  # fmt: skip
    by_id = {row["id"]: row for row in results}
    # "east" is nearest by meaning, "mostly-north" is the only keyword match: both lists' first place.
    assert by_id["east"]["vector_rank"] == 1 and by_id["east"]["text_rank"] is None
    assert by_id["mostly-north"]["text_rank"] == 1
    fused = by_id["mostly-north"]["score"]
    assert fused == pytest.approx(1 / 61 + 1 / (60 + by_id["mostly-north"]["vector_rank"]))
    assert results[0]["id"] == "mostly-north"


def test_each_collection_has_its_own_hnsw_index_and_queries_use_it(org):
    rng = random.Random(7)
    for start in (0, 1000):
        documents = [
            {"id": f"r{start + n}", "embedding": [rng.random() for _ in range(3)]} for n in range(1000)
        ]
        run(org, "upsert", collection="handbook", documents=documents)
    (collection,) = vector_collections_list(organisation_id=org)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index_name(collection["id"])])
        (definition,) = cursor.fetchone()
        assert "hnsw" in definition and "vector(3)" in definition and "vector_cosine_ops" in definition
        assert collection["id"] in definition
        cursor.execute("ANALYZE flomation_vector_document")
        cursor.execute(
            "EXPLAIN SELECT id FROM flomation_vector_document WHERE collection_id = %s"
            " ORDER BY embedding::vector(3) <=> '[1,0,0]'::vector(3) LIMIT 2",
            [collection["id"]],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index_name(collection["id"]) in plan


def test_another_organisation_sees_neither_the_collection_nor_its_documents(org):
    outsider = uuid.uuid4()
    assert vector_collections_list(organisation_id=outsider) == []
    for operation, payload in [
        ("query", {"collection": "handbook", "embedding": [1, 0, 0]}),
        ("upsert", {"collection": "handbook", "documents": [{"id": "x", "embedding": [1, 0, 0]}]}),
        ("delete", {"collection": "handbook", "ids": ["north"]}),
        ("delete_collection", {"name": "handbook"}),
    ]:
        with pytest.raises(VectorError, match="no collection 'handbook'"):
            run(outsider, operation, **payload)
    # The same name in the outsider's organisation is a collection of its own.
    run(outsider, "create_collection", name="handbook", dimension=3)
    run(outsider, "upsert", collection="handbook", documents=[{"id": "mine", "embedding": [1, 0, 0]}])
    results = run(outsider, "query", collection="handbook", embedding=[1, 0, 0], top_k=10)["results"]
    assert [row["id"] for row in results] == ["mine"]
    (theirs,) = vector_collections_list(organisation_id=org)
    with pytest.raises(VectorError):
        vector_collection_delete(organisation_id=outsider, collection_id=theirs["id"])
    assert vector_collections_list(organisation_id=org)[0]["documents"] == 3


def test_a_vector_of_the_wrong_dimension_is_refused_with_a_sentence(org):
    with pytest.raises(VectorError, match="has 2 dimensions but the collection holds 3-dimensional"):
        run(org, "query", collection="handbook", embedding=[1, 0])
    with pytest.raises(VectorError, match="already exists with 3 dimensions"):
        run(org, "create_collection", name="handbook", dimension=4)
    assert run(org, "create_collection", name="handbook", dimension=3)["collection"]["created"] is False


def test_deleting_documents_and_a_collection_removes_rows_and_index(org):
    assert run(org, "delete", collection="handbook", metadata_filter={"kind": "travel"}) == {"deleted": 2}
    (collection,) = vector_collections_list(organisation_id=org)
    gone = vector_collection_delete(organisation_id=org, collection_id=collection["id"])
    assert gone["deleted_documents"] == 1 and gone["name"] == "handbook"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [index_name(collection["id"])])
        assert cursor.fetchone()[0] == 0
    assert vector_collections_list(organisation_id=org) == []
