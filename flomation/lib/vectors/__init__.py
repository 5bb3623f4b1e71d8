"""Vector collections in PostgreSQL with pgvector, Django-free: the platform's store (organisation-scoped
rows in the platform database, reached by core's services) and an external PostgreSQL (reached by the
`vectordatabase/pgvector/*` nodes through a `postgresql` connection) share this one implementation.

Layout: two tables, `flomation_vector_collection` (one row per collection: organisation, name, dimension,
metric) and `flomation_vector_document` (every collection's documents, each row carrying its organisation
and collection). Embeddings are stored as an untyped `vector`, so collections of different dimensions share
the table; each collection gets its own partial HNSW index on `embedding::vector(<dimension>)` with the
operator class of its metric, `WHERE collection_id = <id>`. A partial index per collection rather than a
table per dimension: no DDL that creates tables at run time, one place where the organisation wall is
enforced, a collection's index holds only its own rows (so a small collection's search does not walk a
large neighbour's graph), and deleting a collection drops its index and rows in one transaction.
"""

from flomation.lib.vectors.store import (
    MAX_DIMENSION,
    METRICS,
    NO_ORGANISATION,
    VectorError,
    VectorStore,
    metric_name,
    schema_create,
)

__all__ = [
    "MAX_DIMENSION",
    "METRICS",
    "NO_ORGANISATION",
    "VectorError",
    "VectorStore",
    "metric_name",
    "schema_create",
]
