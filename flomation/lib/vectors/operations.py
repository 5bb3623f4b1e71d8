"""The store's operations as JSON in, JSON out: what a node asks for, run on the platform's store (by the
API, for the execution's organisation) or on an external database (by the node itself)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flomation.lib.vectors.schema import VectorError
from flomation.lib.vectors.store import VectorStore


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _text(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise VectorError(f"'{name}' is required")
    return value.strip()


def _create(store: VectorStore, p: dict[str, Any]) -> dict[str, Any]:
    made = store.collection_create(
        name=_text(p, "name"), dimension=p.get("dimension"), metric=p.get("metric")
    )
    return {"collection": made}


def _list(store: VectorStore, p: dict[str, Any]) -> dict[str, Any]:
    return {"collections": store.collections_list()}


def _drop(store: VectorStore, p: dict[str, Any]) -> dict[str, Any]:
    return {"collection": store.collection_delete(name=_text(p, "name"))}


def _upsert(store: VectorStore, p: dict[str, Any]) -> dict[str, Any]:
    documents = p.get("documents")
    if not isinstance(documents, list):
        raise VectorError("'documents' must be an array of {id, content, metadata, embedding}")
    return {"ids": store.documents_upsert(collection=_text(p, "collection"), documents=documents)}


def _delete(store: VectorStore, p: dict[str, Any]) -> dict[str, Any]:
    ids = p.get("ids")
    if ids is not None and not isinstance(ids, list):
        raise VectorError("'ids' must be an array")
    deleted = store.documents_delete(
        collection=_text(p, "collection"), ids=ids, metadata_filter=p.get("metadata_filter")
    )
    return {"deleted": deleted}


def _query(store: VectorStore, p: dict[str, Any]) -> dict[str, Any]:
    results = store.query(
        collection=_text(p, "collection"),
        embedding=p.get("embedding"),
        top_k=p.get("top_k"),
        metadata_filter=p.get("metadata_filter"),
        include_embeddings=bool(p.get("include_embeddings")),
    )
    return {"results": results}


def _hybrid(store: VectorStore, p: dict[str, Any]) -> dict[str, Any]:
    results = store.hybrid_search(
        collection=_text(p, "collection"),
        embedding=p.get("embedding"),
        text=_text(p, "text"),
        top_k=p.get("top_k"),
        candidates=p.get("candidates"),
        rrf_k=p.get("rrf_k"),
        language=str(p.get("language") or "english"),
        metadata_filter=p.get("metadata_filter"),
    )
    return {"results": results}


OPERATIONS: dict[str, Callable[[VectorStore, dict[str, Any]], dict[str, Any]]] = {
    "create_collection": _create,
    "list_collections": _list,
    "delete_collection": _drop,
    "upsert": _upsert,
    "delete": _delete,
    "query": _query,
    "hybrid_search": _hybrid,
}


def store_call(store: VectorStore, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Runs one operation; raises VectorError (a sentence for the author) for anything the caller got wrong."""
    run = OPERATIONS.get(operation)
    if run is None:
        raise VectorError(f"unknown vector store operation {operation!r}")
    if not isinstance(payload, dict):
        raise VectorError("the request must be a JSON object")
    return _json(run(store, payload))
