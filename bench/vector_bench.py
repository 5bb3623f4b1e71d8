"""The vector store: upsert rate and query latency (p50/p99) for 100,000 vectors of 384 dimensions, searched
through the collection's HNSW index and exactly (a full scan), with the HNSW search's recall@10 against the
exact answer. Runs on a throwaway embedded PostgreSQL with pgvector, through the same code the platform uses.

Run: .venv/bin/python bench/vector_bench.py [--vectors 100000] [--dimension 384] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flomation.db import ensure_embedded_server  # noqa: E402
from flomation.lib.vectors import VectorStore, schema_create  # noqa: E402
from flomation.lib.vectors.schema import index_name  # noqa: E402

BATCH = 1000
CLUSTERS = 200


def unit(vector: list[float]) -> list[float]:
    norm = sum(x * x for x in vector) ** 0.5 or 1.0
    return [x / norm for x in vector]


def data(
    rng: random.Random, count: int, queries: int, dimension: int
) -> tuple[list[list[float]], list[list[float]]]:
    """Vectors around CLUSTERS centres (as embeddings of text on a few hundred topics are), and queries
    drawn the same way."""
    centres = [[rng.gauss(0, 1) for _ in range(dimension)] for _ in range(CLUSTERS)]

    def one() -> list[float]:
        centre = centres[rng.randrange(CLUSTERS)]
        return unit([c + rng.gauss(0, 0.6) for c in centre])

    return [one() for _ in range(count)], [one() for _ in range(queries)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    import psycopg

    rng = random.Random(15)
    print(f"making {args.vectors} vectors of {args.dimension} dimensions ...", flush=True)
    vectors, queries = data(rng, args.vectors, args.queries, args.dimension)
    with tempfile.TemporaryDirectory() as tmp:
        server = ensure_embedded_server(Path(tmp) / "pg")
        connection = psycopg.connect(
            host=server.socket_dir, port=server.port, user=server.user, dbname="postgres"
        )
        with connection.transaction():
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
            schema_create(connection)
        store = VectorStore(connection, str(uuid.uuid4()))
        store.collection_create(name="bench", dimension=args.dimension, metric="cosine")

        started = time.perf_counter()
        for start in range(0, len(vectors), BATCH):
            documents = [
                {"id": str(n), "content": f"document {n}", "embedding": vectors[n]}
                for n in range(start, min(start + BATCH, len(vectors)))
            ]
            store.documents_upsert(collection="bench", documents=documents)
        upsert_seconds = time.perf_counter() - started
        connection.execute("ANALYZE flomation_vector_document")

        def timed(exact: bool) -> tuple[list[float], list[list[str]]]:
            latencies, answers = [], []
            for query in queries:
                began = time.perf_counter()
                rows = store.query(collection="bench", embedding=query, top_k=10, exact=exact)
                latencies.append((time.perf_counter() - began) * 1000)
                answers.append([row["id"] for row in rows])
            return latencies, answers

        timed(False)  # warm the index's pages into the cache
        hnsw_ms, hnsw = timed(False)
        exact_ms, exact = timed(True)
        recall = statistics.mean(len(set(a) & set(b)) / 10 for a, b in zip(hnsw, exact, strict=True))
        # Building the index over rows already there (what a restore or a REINDEX costs), for comparison with
        # keeping it up to date row by row as upserts do.
        (collection,) = store.collections_list()
        connection.execute("SET maintenance_work_mem = '512MB'")
        began = time.perf_counter()
        connection.execute(f"REINDEX INDEX {index_name(collection['id'])}")
        connection.commit()
        rebuild_seconds = time.perf_counter() - began
        connection.close()

    print(f"vector store: {args.vectors} vectors x {args.dimension} dimensions, cosine, batches of {BATCH}")
    print(
        f"  upsert (HNSW index maintained): {args.vectors / upsert_seconds:8.0f} vectors/s ({upsert_seconds:.1f} s)"
    )
    for label, values in (("HNSW", hnsw_ms), ("exact", exact_ms)):
        print(
            f"  query top-10 {label:5}: p50 {percentile(values, 0.5):7.2f} ms   p99 {percentile(values, 0.99):7.2f} ms"
            f"   ({len(values)} queries)"
        )
    print(f"  recall@10 of HNSW against exact: {recall:.3f}")
    print(f"  HNSW index built over the {args.vectors} rows at once (REINDEX): {rebuild_seconds:.1f} s")


if __name__ == "__main__":
    main()
