"""The platform's vector store: an organisation's collections in the platform database (pgvector).

Every function takes the organisation from its caller (the execution's, for a runner; the member's, for the
API and the editor), never from a flow. The SQL lives in flomation.lib.vectors, shared with the nodes that
target an external PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from flomation.lib.vectors import VectorStore
from flomation.lib.vectors.operations import store_call


def _store(organisation_id: Any) -> VectorStore:
    connection.ensure_connection()
    return VectorStore(connection.connection, str(organisation_id), atomic=transaction.atomic)


def vector_operation_run(*, organisation_id: Any, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One store operation for the organisation (raises VectorError for the caller's mistakes)."""
    with transaction.atomic():
        return store_call(_store(organisation_id), operation, payload)


def vector_collection_delete(*, organisation_id: Any, collection_id: Any) -> dict[str, Any]:
    """Deletes the organisation's collection with that id, its documents and its index."""
    with transaction.atomic():
        return _store(organisation_id).collection_delete(collection_id=str(collection_id))
