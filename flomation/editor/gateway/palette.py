"""The palette's node search, through core's catalogue search."""

from __future__ import annotations

from typing import Any

from flomation.core.services.catalogue import node_catalogue_search
from flomation.editor import catalogue


def palette_search(*, query: str) -> dict[str, Any]:
    return node_catalogue_search(nodes=catalogue.manifest()["nodes"], query=query, limit=30)
