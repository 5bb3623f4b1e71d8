"""One organisation's view of the vector store: every statement is scoped by its organisation id.

The platform passes the organisation of the execution (or of the API caller); an external database, which
has no organisations, uses NO_ORGANISATION. Values reach PostgreSQL only as parameters; the few things that
must be in the SQL text (schema, table and index names, a collection's id and dimension, which the planner
needs to match the collection's partial index) come from our own rows and go through psycopg.sql.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from flomation.lib.vectors.schema import (
    COLLECTIONS,
    DOCUMENTS,
    LANGUAGES,
    MAX_DIMENSION,
    METRICS,
    VectorError,
    index_create,
    index_drop,
    metric_name,
    schema_create,
    vector_literal,
)

NO_ORGANISATION = "00000000-0000-0000-0000-000000000000"
MAX_TOP_K = 1000
MAX_BATCH = 1000
MAX_CONTENT_CHARS = 1_000_000

__all__ = ["MAX_DIMENSION", "METRICS", "NO_ORGANISATION", "VectorError", "VectorStore", "metric_name"]
__all__ += ["schema_create"]


def _filter(value: Any) -> str | None:
    """A metadata filter as JSON for `metadata @> filter`: an object, or Flomation's [{key, value}] pairs."""
    if value in (None, "", {}, []):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise VectorError("the metadata filter must be a JSON object") from None
    if isinstance(value, list):
        pairs = {}
        for item in value:
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                raise VectorError("a metadata filter list holds {key, value} pairs")
            pairs[item["key"]] = item.get("value")
        value = pairs
    if not isinstance(value, dict):
        raise VectorError('the metadata filter must be an object such as {"source": "handbook"}')
    return json.dumps(value)


def _top_k(value: Any, default: int = 10) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise VectorError(f"top_k must be a whole number, not {value!r}") from None
    return max(1, min(number, MAX_TOP_K))


class VectorStore:
    def __init__(
        self,
        connection: Any,
        organisation_id: str,
        schema: str = "public",
        atomic: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        """`connection` is a psycopg connection; `atomic` opens a transaction (or savepoint) on it, by
        default psycopg's own. The platform passes Django's, which owns the transactions of its connection."""
        self.connection = connection
        self.organisation_id = str(organisation_id)
        self.schema = schema
        self._atomic = atomic or connection.transaction

    def _table(self, name: str) -> Any:
        from psycopg import sql

        return sql.Identifier(self.schema, name)

    def _rows(self, statement: Any, params: Any = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self.connection.cursor(row_factory=dict_row) as cursor:
            cursor.execute(statement, params)
            rows = list(cursor.fetchall()) if cursor.description else []
        # Django's connection leaves jsonb undecoded; a plain psycopg connection decodes it.
        for row in rows:
            if isinstance(row.get("metadata"), str):
                row["metadata"] = json.loads(row["metadata"])
        return rows

    # --- collections ------------------------------------------------------------------------------

    def collection_create(self, *, name: str, dimension: Any, metric: Any = "cosine") -> dict[str, Any]:
        """The collection `name`, made with its HNSW index when new. Making one that exists with the same
        dimension and metric is no error (flows re-run); a different dimension or metric is."""
        from psycopg import sql

        name = str(name or "").strip()
        if not name or len(name) > 200:
            raise VectorError("a collection needs a name of 1 to 200 characters")
        try:
            dimension = int(dimension)
        except (TypeError, ValueError):
            raise VectorError(f"dimension must be a whole number, not {dimension!r}") from None
        if not 1 <= dimension <= MAX_DIMENSION:
            raise VectorError(f"dimension must be between 1 and {MAX_DIMENSION}")
        metric = metric_name(metric)
        with self._atomic():
            made = self._rows(
                sql.SQL(
                    "INSERT INTO {c} (organisation_id, name, dimension, metric) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (organisation_id, name) DO NOTHING RETURNING id"
                ).format(c=self._table(COLLECTIONS)),
                (self.organisation_id, name, dimension, metric),
            )
            found = self.collection_get(name=name)
            if not made and (found["dimension"], found["metric"]) != (dimension, metric):
                raise VectorError(
                    f"collection {name!r} already exists with {found['dimension']} dimensions and the "
                    f"{found['metric']} metric; delete it first or use another name"
                )
            if made:
                index_create(self.connection, self.schema, found["id"], dimension, metric)
        return {**found, "created": bool(made)}

    def collections_list(self) -> list[dict[str, Any]]:
        from psycopg import sql

        return self._rows(
            sql.SQL(
                "SELECT c.id::text AS id, c.name, c.dimension, c.metric, c.created_at,"
                " (SELECT count(*) FROM {d} d WHERE d.organisation_id = c.organisation_id"
                "  AND d.collection_id = c.id) AS documents"
                " FROM {c} c WHERE c.organisation_id = %s ORDER BY c.name"
            ).format(c=self._table(COLLECTIONS), d=self._table(DOCUMENTS)),
            (self.organisation_id,),
        )

    def collection_get(self, *, name: str | None = None, collection_id: str | None = None) -> dict[str, Any]:
        from psycopg import sql

        if collection_id is not None:
            try:
                collection_id = str(uuid.UUID(str(collection_id)))
            except ValueError:
                raise VectorError("no such collection") from None
        column = "id" if collection_id is not None else "name"
        found = self._rows(
            sql.SQL(
                "SELECT id::text AS id, name, dimension, metric, created_at FROM {c}"
                " WHERE organisation_id = %s AND {column} = %s"
            ).format(c=self._table(COLLECTIONS), column=sql.Identifier(column)),
            (self.organisation_id, collection_id if collection_id is not None else str(name or "")),
        )
        if not found:
            label = repr(name) if collection_id is None else "with that id"
            raise VectorError(f"there is no collection {label}; create it first (create_collection)")
        return found[0]

    def collection_delete(
        self, *, name: str | None = None, collection_id: str | None = None
    ) -> dict[str, Any]:
        """Deletes the collection, its documents and its index; returns what was deleted."""
        from psycopg import sql

        with self._atomic():
            found = self.collection_get(name=name, collection_id=collection_id)
            gone = self._rows(
                sql.SQL(
                    "WITH docs AS (DELETE FROM {d} WHERE organisation_id = %s AND collection_id = %s"
                    " RETURNING 1) SELECT count(*) AS n FROM docs"
                ).format(d=self._table(DOCUMENTS)),
                (self.organisation_id, found["id"]),
            )
            self._rows(
                sql.SQL("DELETE FROM {c} WHERE organisation_id = %s AND id = %s").format(
                    c=self._table(COLLECTIONS)
                ),
                (self.organisation_id, found["id"]),
            )
            index_drop(self.connection, self.schema, found["id"])
        return {**found, "deleted_documents": gone[0]["n"]}

    # --- documents --------------------------------------------------------------------------------

    def documents_upsert(self, *, collection: str, documents: list[dict[str, Any]]) -> list[str]:
        """Writes documents ({id?, content, metadata, embedding}); an existing id is overwritten. Returns
        the ids, made up (uuid4) for documents that came without one."""
        from psycopg import sql

        if not documents:
            return []
        if len(documents) > MAX_BATCH:
            raise VectorError(f"one upsert writes at most {MAX_BATCH} documents; split the list")
        found = self.collection_get(name=collection)
        rows, ids = [], []
        for number, document in enumerate(documents, 1):
            if not isinstance(document, dict):
                raise VectorError(f"document {number} must be an object")
            doc_id = str(document.get("id") or uuid.uuid4().hex)
            content = document.get("content")
            content = "" if content is None else content if isinstance(content, str) else json.dumps(content)
            if len(content) > MAX_CONTENT_CHARS:
                raise VectorError(f"document {number} has more than {MAX_CONTENT_CHARS} characters")
            metadata = document.get("metadata") or {}
            if not isinstance(metadata, dict):
                raise VectorError(f"document {number}: metadata must be an object")
            try:
                embedding = vector_literal(document.get("embedding"), found["dimension"])
            except VectorError as error:
                raise VectorError(f"document {number}: {error}") from None
            ids.append(doc_id)
            rows.append((found["id"], self.organisation_id, doc_id, content, json.dumps(metadata), embedding))
        statement = sql.SQL(
            "INSERT INTO {d} (collection_id, organisation_id, id, content, metadata, embedding)"
            " VALUES (%s, %s, %s, %s, %s::jsonb, %s::vector)"
            " ON CONFLICT (collection_id, id) DO UPDATE SET content = excluded.content,"
            " metadata = excluded.metadata, embedding = excluded.embedding, updated_at = now()"
            " WHERE {d}.organisation_id = excluded.organisation_id"
        ).format(d=self._table(DOCUMENTS))
        with self._atomic(), self.connection.cursor() as cursor:
            cursor.executemany(statement, rows)
        return ids

    def documents_delete(
        self, *, collection: str, ids: list[str] | None = None, metadata_filter: Any = None
    ) -> int:
        """Deletes the documents with these ids, or matching the filter; at least one must be given."""
        from psycopg import sql

        wanted = _filter(metadata_filter)
        if not ids and wanted is None:
            raise VectorError("say which documents to delete: ids, a metadata filter, or both")
        found = self.collection_get(name=collection)
        conditions = [sql.SQL("organisation_id = %s AND collection_id = %s")]
        params: list[Any] = [self.organisation_id, found["id"]]
        if ids:
            conditions.append(sql.SQL("id = ANY(%s)"))
            params.append([str(item) for item in ids])
        if wanted is not None:
            conditions.append(sql.SQL("metadata @> %s::jsonb"))
            params.append(wanted)
        gone = self._rows(
            sql.SQL(
                "WITH gone AS (DELETE FROM {d} WHERE {where} RETURNING 1) SELECT count(*) AS n FROM gone"
            ).format(d=self._table(DOCUMENTS), where=sql.SQL(" AND ").join(conditions)),
            params,
        )
        return int(gone[0]["n"])

    # --- search -----------------------------------------------------------------------------------

    def query(
        self,
        *,
        collection: str,
        embedding: Any,
        top_k: Any = 10,
        metadata_filter: Any = None,
        exact: bool = False,
        include_embeddings: bool = False,
    ) -> list[dict[str, Any]]:
        """The top_k nearest documents by the collection's metric, best first, with `distance` and `score`
        (cosine: 1 - distance; inner product: the product; l2: -distance). `exact` skips the HNSW index
        (a full scan: exact, slower; what the benchmark compares against)."""
        from psycopg import sql

        from flomation.lib.vectors.search import distance_sql, score_sql, search_settings

        found = self.collection_get(name=collection)
        vector = vector_literal(embedding, found["dimension"])
        limit = _top_k(top_k)
        wanted = _filter(metadata_filter)
        distance = distance_sql(found, exact=exact)
        statement = sql.SQL(
            "SELECT id, content, metadata, {distance} AS distance{embedding} FROM {d}"
            " WHERE organisation_id = %(org)s AND collection_id = {cid}{filter}"
            " ORDER BY distance LIMIT %(limit)s"
        ).format(
            distance=distance,
            embedding=sql.SQL(", embedding::text AS embedding" if include_embeddings else ""),
            d=self._table(DOCUMENTS),
            cid=sql.Literal(found["id"]),
            filter=sql.SQL(" AND metadata @> %(filter)s::jsonb" if wanted else ""),
        )
        params = {"org": self.organisation_id, "vector": vector, "limit": limit, "filter": wanted}
        with self._atomic():
            search_settings(self.connection, limit, filtered=wanted is not None, exact=exact)
            rows = self._rows(statement, params)
        return [score_sql(row, found["metric"]) for row in rows]

    def hybrid_search(
        self,
        *,
        collection: str,
        embedding: Any,
        text: str,
        top_k: Any = 10,
        candidates: Any = 50,
        rrf_k: Any = 60,
        language: str = "english",
        metadata_filter: Any = None,
    ) -> list[dict[str, Any]]:
        """Vector and full-text search fused by reciprocal rank: each list adds 1 / (rrf_k + rank)."""
        from flomation.lib.vectors.search import hybrid_statement, search_settings

        found = self.collection_get(name=collection)
        if language not in LANGUAGES:
            raise VectorError(f"text search language must be one of {', '.join(LANGUAGES)}")
        if not str(text or "").strip():
            raise VectorError("hybrid search needs a text query")
        limit = _top_k(top_k)
        params = {
            "org": self.organisation_id,
            "vector": vector_literal(embedding, found["dimension"]),
            "text": str(text),
            "language": language,
            "candidates": max(limit, _top_k(candidates, 50)),
            "rrf_k": max(1, min(_top_k(rrf_k, 60), 1000)),
            "limit": limit,
            "filter": _filter(metadata_filter),
        }
        statement = hybrid_statement(
            self._table(DOCUMENTS), found, language=language, filtered=params["filter"] is not None
        )
        with self._atomic():
            search_settings(self.connection, params["candidates"], filtered=params["filter"] is not None)
            rows = self._rows(statement, params)
        return [
            {
                **row,
                "score": float(row["score"]),
                "distance": None if row["distance"] is None else float(row["distance"]),
            }
            for row in rows
        ]
