"""Reads of the platform's vector store, scoped by the caller's organisation (see services/vectors.py)."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from flomation.lib.vectors import VectorStore


def vector_collections_list(*, organisation_id: Any) -> list[dict[str, Any]]:
    """The organisation's collections with their dimension, metric and document count, by name."""
    connection.ensure_connection()
    with transaction.atomic():
        return VectorStore(
            connection.connection, str(organisation_id), atomic=transaction.atomic
        ).collections_list()
