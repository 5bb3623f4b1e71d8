"""The organisation's vector collections for Settings > Vector collections, through core's store functions."""

from __future__ import annotations

from typing import Any

from flomation.core import models as core
from flomation.core.selectors.vectors import vector_collections_list
from flomation.core.services.vectors import vector_collection_delete
from flomation.editor.gateway import NotFound

VIEW = "flow.view"
MANAGE = "flow.delete"


def collection_list(*, organisation: core.Organisation) -> list[dict[str, Any]]:
    return vector_collections_list(organisation_id=organisation.id)


def collection_delete(*, organisation: core.Organisation, collection_id: str) -> dict[str, Any]:
    from flomation.lib.vectors import VectorError

    try:
        return vector_collection_delete(organisation_id=organisation.id, collection_id=collection_id)
    except VectorError:
        raise NotFound("No such vector collection in this organisation.") from None
