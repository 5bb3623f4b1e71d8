"""Vector collections of an organisation's store: listed with their size, deleted with their documents."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView
from flomation.core.api.serializers.vectors import VectorCollectionSerializer
from flomation.core.selectors.vectors import vector_collections_list
from flomation.core.services.vectors import vector_collection_delete
from flomation.lib.vectors import VectorError

TAG = ["vector collections"]


class VectorCollectionListView(OrganisationView):
    permissions = {"GET": "flow.view"}

    @extend_schema(tags=TAG, responses=VectorCollectionSerializer(many=True))
    def get(self, request: Request, org_id: str) -> Response:
        rows = vector_collections_list(organisation_id=self.organisation.id)
        return self.paginate(rows, VectorCollectionSerializer)


class VectorCollectionDetailView(OrganisationView):
    permissions = {"DELETE": "flow.delete"}

    @extend_schema(tags=TAG, responses={204: None})
    def delete(self, request: Request, org_id: str, collection_id: str) -> Response:
        try:
            vector_collection_delete(organisation_id=self.organisation.id, collection_id=collection_id)
        except VectorError:
            raise exceptions.NotFound("No such vector collection in this organisation.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
