"""Searching the node catalogue by meaning (pgvector over embeddings of each node's name and description)
or, with no embedding service, by PostgreSQL full-text ranking. No Django.

Embeddings are cached per node and model in `flomation_node_embedding` and made again only when a node's
text changes. The catalogue has a few hundred entries, so an exact scan ranks them; no index is needed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from typing import Any

from flomation.lib.llm.base import ModelError
from flomation.lib.vectors.schema import vector_literal

TABLE = "flomation_node_embedding"
MAX_TEXTS = 256  # per call to the embedding service
KEEP_SHARE_OF_BEST = 0.3
logger = logging.getLogger(__name__)
Embed = Callable[[list[str]], list[list[float]]]


def catalogue_schema_create(connection: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (action text NOT NULL, model text NOT NULL,"
            " text_hash text NOT NULL, embedding vector NOT NULL, PRIMARY KEY (action, model))"
        )


def _text(node: dict[str, Any]) -> str:
    return f"{node.get('name', '')}: {node.get('description', '')} (category {node.get('category', '')})"


def catalogue_search(
    connection: Any, *, nodes: list[dict[str, Any]], query: str, limit: int = 20,
    embed: Embed | None = None, model: str = "",
) -> dict[str, Any]:  # fmt: skip
    """{"mode": "meaning" | "keywords", "results": [{"action", "score"}], "note"?}, best first. With `embed`
    the ranking is by meaning; when the embedding service fails, by keywords with a note saying so."""
    query = query.strip()[:500]
    if not query:
        return {"mode": "keywords", "results": []}
    if embed is not None:
        try:
            return {"mode": "meaning", "results": _by_meaning(connection, nodes, query, limit, embed, model)}
        except ModelError as error:
            logger.warning("palette search by meaning failed, ranking by keywords instead: %s", error)
            found = _by_keywords(connection, nodes, query, limit)
            return {"mode": "keywords", "results": found, "note": "the embedding service failed"}
    return {"mode": "keywords", "results": _by_keywords(connection, nodes, query, limit)}


def _by_meaning(
    connection: Any, nodes: list[dict[str, Any]], query: str, limit: int, embed: Embed, model: str
) -> list[dict[str, Any]]:
    texts = {str(node["action"]): _text(node) for node in nodes}
    hashes = {action: hashlib.sha256(text.encode()).hexdigest() for action, text in texts.items()}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT action, text_hash FROM {TABLE} WHERE model = %s", [model])
        known = dict(cursor.fetchall())
    stale = [action for action in texts if known.get(action) != hashes[action]]
    for start in range(0, len(stale), MAX_TEXTS):
        batch = stale[start : start + MAX_TEXTS]
        vectors = embed([texts[action] for action in batch])
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {TABLE} (action, model, text_hash, embedding) VALUES (%s, %s, %s, %s::vector)"
                " ON CONFLICT (action, model) DO UPDATE SET text_hash = excluded.text_hash,"
                " embedding = excluded.embedding",
                [(a, model, hashes[a], vector_literal(v)) for a, v in zip(batch, vectors, strict=True)],
            )
    (wanted,) = embed([query])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT action, 1 - (embedding <=> %s::vector) FROM {TABLE}"
            " WHERE model = %s AND action = ANY(%s) AND vector_dims(embedding) = %s"
            " ORDER BY embedding <=> %s::vector, action LIMIT %s",
            [vector_literal(wanted), model, list(texts), len(wanted), vector_literal(wanted), limit],
        )
        return [{"action": action, "score": float(score)} for action, score in cursor.fetchall()]


def _by_keywords(
    connection: Any, nodes: list[dict[str, Any]], query: str, limit: int
) -> list[dict[str, Any]]:
    """Full-text ranking, name above description above category and id; each word also matches as a prefix
    ("sche" finds "schedule"), and any word may match (more matching words rank higher); results far below
    the best are left out. A node that has every word of the query (stop words aside) ranks above those that
    have only some."""
    words = re.findall(r"\w+", query.lower())[:12]
    if not words:
        return []
    # A prefix of three letters or more ("sche" finds "schedule"); shorter words only as themselves.
    terms = [f"{word}:*" if len(word) >= 3 else word for word in words]
    tsquery, every_word = " | ".join(terms), " & ".join(terms)
    columns = [
        [str(node.get(key) or "") for node in nodes] for key in ("action", "name", "description", "category")
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH n AS (SELECT action, setweight(to_tsvector('english', name), 'A')"
            "   || setweight(to_tsvector('english', description), 'B')"
            "   || setweight(to_tsvector('simple', category || ' ' || replace(action, '/', ' ')), 'C') AS doc"
            "  FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS t(action, name, description, category)),"
            " q AS (SELECT to_tsquery('english', %s) || to_tsquery('simple', %s) AS query,"
            "  to_tsquery('english', %s) AS every_word)"
            " SELECT action, ts_rank(doc, query) + CASE WHEN doc @@ every_word THEN 1 ELSE 0 END AS rank"
            " FROM n, q WHERE doc @@ query ORDER BY rank DESC, action LIMIT %s",
            [*columns, tsquery, tsquery, every_word, limit],
        )
        ranked = [{"action": action, "score": float(rank)} for action, rank in cursor.fetchall()]
    # Nodes that share only a stray word with the query would trail long after the real answers.
    best = ranked[0]["score"] if ranked else 0.0
    return [hit for hit in ranked if hit["score"] >= best * KEEP_SHARE_OF_BEST]
