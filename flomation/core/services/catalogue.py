"""Searching the node catalogue for the editor's palette: by meaning with the platform's embedding service
(FLOMATION_EMBEDDING_*) and pgvector, else by PostgreSQL full-text ranking (flomation.lib.vectors.catalogue)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, transaction

from flomation.lib.llm.client import embed as embed_texts
from flomation.lib.vectors.catalogue import catalogue_search

EMBEDDING_TIMEOUT_SECONDS = 10.0


def node_catalogue_search(*, nodes: list[dict[str, Any]], query: str, limit: int = 20) -> dict[str, Any]:
    """{"mode", "label", "results": [{"action", "score"}]}: `label` says how the results were ranked."""
    embed = None
    model = settings.FLOMATION_EMBEDDING_MODEL
    if settings.FLOMATION_EMBEDDING_BASE_URL:
        import requests

        session = requests.Session()  # the operator's own service, configured in settings

        def embed(texts: list[str]) -> list[list[float]]:
            fields = {
                "base_url": settings.FLOMATION_EMBEDDING_BASE_URL,
                "api_key": settings.FLOMATION_EMBEDDING_API_KEY,
            }
            return embed_texts(texts, fields=fields, model=model, session=session,
                               timeout=EMBEDDING_TIMEOUT_SECONDS)  # fmt: skip

    connection.ensure_connection()
    with transaction.atomic():
        found = catalogue_search(
            connection.connection,
            nodes=nodes,
            query=query,
            limit=max(1, min(limit, 100)),
            embed=embed,
            model=model,
        )
    if found["mode"] == "meaning":
        found["label"] = f"Ranked by meaning ({model})"
    elif found.get("note"):
        found["label"] = f"Ranked by keywords (PostgreSQL full-text): {found['note']}"
    else:
        found["label"] = "Ranked by keywords (PostgreSQL full-text)"
    return found
