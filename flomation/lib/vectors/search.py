"""The SQL of nearest-neighbour and hybrid (vector + full-text, reciprocal rank fusion) search."""

from __future__ import annotations

from typing import Any

from flomation.lib.vectors.schema import METRICS


def distance_sql(collection: dict[str, Any], *, exact: bool = False) -> Any:
    """The distance of each row to %(vector)s. Cast to the collection's dimension so the planner can use
    the collection's partial HNSW index; `exact` leaves the column uncast, which no index matches."""
    from psycopg import sql

    operator, _ = METRICS[collection["metric"]]
    if exact:
        return sql.SQL("(embedding {op} %(vector)s::vector)").format(op=sql.SQL(operator))
    cast = sql.SQL("vector({})").format(sql.Literal(int(collection["dimension"])))
    return sql.SQL("(embedding::{cast} {op} %(vector)s::{cast})").format(cast=cast, op=sql.SQL(operator))


def score_sql(row: dict[str, Any], metric: str) -> dict[str, Any]:
    """A result row with `score`, higher is better: cosine similarity, the inner product, or -L2 distance."""
    distance = float(row["distance"])
    score = {"cosine": 1.0 - distance, "inner_product": -distance, "l2": -distance}[metric]
    result = {**row, "distance": distance, "score": score}
    if "embedding" in result and isinstance(result["embedding"], str):
        result["embedding"] = [float(item) for item in result["embedding"].strip("[]").split(",") if item]
    return result


def search_settings(connection: Any, limit: int, *, filtered: bool, exact: bool = False) -> None:
    """Per-transaction HNSW settings: a candidate list at least as long as the results asked for and, with
    a metadata filter on pgvector 0.8+, an iterative scan so filtering cannot leave fewer than top_k."""
    with connection.cursor() as cursor:
        if exact:
            cursor.execute("SELECT set_config('enable_indexscan', 'off', true)")
            return
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true),"
            " (SELECT extversion FROM pg_extension WHERE extname = 'vector')",
            [str(max(40, min(limit, 1000)))],
        )
        _, version = cursor.fetchone()
        if filtered and _version_at_least(version, (0, 8)):
            cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")


def _version_at_least(version: Any, wanted: tuple[int, int]) -> bool:
    try:
        return tuple(int(part) for part in str(version).split(".")[:2]) >= wanted
    except ValueError:
        return False


def hybrid_statement(documents: Any, collection: dict[str, Any], *, language: str, filtered: bool) -> Any:
    """Both searches run in one statement: each keeps its best %(candidates)s rows, ranked; the fused score
    is the sum over the lists a document appears in of 1 / (%(rrf_k)s + rank). Rank, not the raw scores, is
    what is fused: a cosine distance and a ts_rank_cd are on different scales."""
    from psycopg import sql

    tsv = (
        sql.SQL("content_tsv")
        if language == "english"
        else sql.SQL("to_tsvector('simple'::regconfig, content)")
    )
    scope = sql.SQL("organisation_id = %(org)s AND collection_id = {cid}{filter}").format(
        cid=sql.Literal(collection["id"]),
        filter=sql.SQL(" AND metadata @> %(filter)s::jsonb" if filtered else ""),
    )
    return sql.SQL(
        "WITH semantic AS ("
        "  SELECT id, distance, row_number() OVER (ORDER BY distance) AS rank FROM ("
        "    SELECT id, {distance} AS distance FROM {d} WHERE {scope}"
        "    ORDER BY distance LIMIT %(candidates)s) nearest),"
        " keyword AS ("
        "  SELECT id, row_number() OVER (ORDER BY text_rank DESC, id) AS rank FROM ("
        "    SELECT id, ts_rank_cd({tsv}, query) AS text_rank"
        "    FROM {d}, websearch_to_tsquery(%(language)s::regconfig, %(text)s) query"
        "    WHERE {scope} AND {tsv} @@ query"
        "    ORDER BY text_rank DESC, id LIMIT %(candidates)s) matched)"
        " SELECT d.id, d.content, d.metadata, s.distance, s.rank AS vector_rank, k.rank AS text_rank,"
        "  COALESCE(1.0 / (%(rrf_k)s + s.rank), 0) + COALESCE(1.0 / (%(rrf_k)s + k.rank), 0) AS score"
        " FROM semantic s FULL OUTER JOIN keyword k ON k.id = s.id"
        " JOIN {d} d ON d.organisation_id = %(org)s AND d.collection_id = {cid}"
        "  AND d.id = COALESCE(s.id, k.id)"
        " ORDER BY score DESC, d.id LIMIT %(limit)s"
    ).format(
        distance=distance_sql(collection),
        d=documents,
        scope=scope,
        tsv=tsv,
        cid=sql.Literal(collection["id"]),
    )
