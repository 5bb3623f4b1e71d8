"""The vector store's tables and each collection's HNSW index (see the package's docstring for the layout)."""

from __future__ import annotations

import math
from typing import Any

COLLECTIONS = "flomation_vector_collection"
DOCUMENTS = "flomation_vector_document"
# The HNSW index of pgvector's `vector` type takes at most 2,000 dimensions.
MAX_DIMENSION = 2000
# metric -> (distance operator, HNSW operator class)
METRICS: dict[str, tuple[str, str]] = {
    "cosine": ("<=>", "vector_cosine_ops"),
    "l2": ("<->", "vector_l2_ops"),
    "inner_product": ("<#>", "vector_ip_ops"),
}
_METRIC_ALIASES = {"euclidean": "l2", "ip": "inner_product", "dot": "inner_product"}
# Full-text configurations that exist on every PostgreSQL; `english` is the stored, indexed one.
LANGUAGES = ("english", "simple")


OUTSIDE_A_RUNNER = (
    "the organisation's vector store is reached through a runner; outside one, pick a postgresql connection "
    "to a server with pgvector"
)


class VectorError(Exception):
    """A mistake the author can fix (unknown collection, wrong dimension, bad filter); the message says how."""


def metric_name(value: Any) -> str:
    """`cosine`, `l2` or `inner_product` (Flomation's `euclidean` is `l2`); blank means cosine."""
    name = str(value or "cosine").strip().lower()
    name = _METRIC_ALIASES.get(name, name)
    if name not in METRICS:
        raise VectorError(f"distance metric must be cosine, l2 (euclidean) or inner_product, not {value!r}")
    return name


def vector_literal(values: Any, dimension: int | None = None) -> str:
    """pgvector's text form of a list of finite numbers, checked against the collection's dimension."""
    if not isinstance(values, list | tuple) or not values:
        raise VectorError("an embedding must be a non-empty array of numbers")
    numbers: list[float] = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise VectorError("an embedding must contain only finite numbers")
        numbers.append(float(item))
    if dimension is not None and len(numbers) != dimension:
        raise VectorError(
            f"the embedding has {len(numbers)} dimensions but the collection holds {dimension}-dimensional "
            "vectors: use the same embedding model the collection was made with"
        )
    return "[" + ",".join(repr(number) for number in numbers) + "]"


def schema_create(connection: Any, schema: str = "public") -> None:
    """Creates the two tables and their shared indexes when missing (the platform's migration, and the first
    use of an external database). The `vector` extension must already be installed."""
    from psycopg import sql

    collections, documents = sql.Identifier(schema, COLLECTIONS), sql.Identifier(schema, DOCUMENTS)
    statements = [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {c} ("
            " id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
            " organisation_id uuid NOT NULL,"
            " name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),"
            " dimension integer NOT NULL CHECK (dimension BETWEEN 1 AND {max}),"
            " metric text NOT NULL CHECK (metric IN ('cosine', 'l2', 'inner_product')),"
            " created_at timestamptz NOT NULL DEFAULT now(),"
            " UNIQUE (organisation_id, name))"
        ).format(c=collections, max=sql.Literal(MAX_DIMENSION)),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {d} ("
            " collection_id uuid NOT NULL REFERENCES {c} (id) ON DELETE CASCADE,"
            " organisation_id uuid NOT NULL,"
            " id text NOT NULL,"
            " content text NOT NULL DEFAULT '',"
            " metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,"
            " embedding vector NOT NULL,"
            " content_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED,"
            " updated_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (collection_id, id))"
        ).format(d=documents, c=collections),
        sql.SQL("CREATE INDEX IF NOT EXISTS {name} ON {d} (organisation_id, collection_id)").format(
            name=sql.Identifier(f"{DOCUMENTS}_organisation"), d=documents
        ),
        sql.SQL("CREATE INDEX IF NOT EXISTS {name} ON {d} USING gin (content_tsv)").format(
            name=sql.Identifier(f"{DOCUMENTS}_tsv"), d=documents
        ),
        sql.SQL("CREATE INDEX IF NOT EXISTS {name} ON {d} USING gin (metadata jsonb_path_ops)").format(
            name=sql.Identifier(f"{DOCUMENTS}_metadata"), d=documents
        ),
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def schema_drop(connection: Any, schema: str = "public") -> None:
    """Drops both tables (the migration's reverse); every collection's index goes with them."""
    from psycopg import sql

    with connection.cursor() as cursor:
        for table in (DOCUMENTS, COLLECTIONS):
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(schema, table)))


def index_name(collection_id: str) -> str:
    """The collection's HNSW index: derived from its uuid, so never from text an author typed."""
    return "flomation_vec_" + str(collection_id).replace("-", "")


def index_create(connection: Any, schema: str, collection_id: str, dimension: int, metric: str) -> None:
    from psycopg import sql

    _, operator_class = METRICS[metric]
    statement = sql.SQL(
        "CREATE INDEX IF NOT EXISTS {name} ON {d} USING hnsw ((embedding::vector({dim})) {ops})"
        " WHERE collection_id = {cid}"
    ).format(
        name=sql.Identifier(index_name(collection_id)),
        d=sql.Identifier(schema, DOCUMENTS),
        dim=sql.Literal(int(dimension)),
        ops=sql.SQL(operator_class),
        cid=sql.Literal(str(collection_id)),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement)


def index_drop(connection: Any, schema: str, collection_id: str) -> None:
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(schema, index_name(collection_id)))
        )
