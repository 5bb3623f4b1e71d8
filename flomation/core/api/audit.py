"""GET /organisations/{org}/audit: the organisation's audit log, filtered, a page at a time (cursor)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView
from flomation.core.permissions import PermissionDenied
from flomation.core.selectors.audit import audit_filters_parse, audit_page, audit_readable, entry_document

_PARAMETERS = [
    OpenApiParameter(
        "actor", OpenApiTypes.STR, description="an account, token or runner id, or part of an email"
    ),
    OpenApiParameter("action", OpenApiTypes.STR, description="e.g. secret.set, or a prefix: workflow.*"),
    OpenApiParameter("target", OpenApiTypes.STR, description="any id the entry names"),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="from this time (included)"),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="to this time (excluded)"),
    OpenApiParameter("cursor", OpenApiTypes.INT, description="next_cursor of the previous page"),
    OpenApiParameter("limit", OpenApiTypes.INT, description="entries per page (default 50)"),
]


class AuditListView(OrganisationView):
    """Needs `audit.view` or `organisation.manage` (checked after membership: an outsider gets 404)."""

    permissions = {"GET": "organisation.view"}
    pagination_class = None

    @extend_schema(
        tags=["audit"],
        summary="The organisation's audit log, newest first",
        parameters=_PARAMETERS,
        responses=inline_serializer(
            "AuditPage",
            {
                "results": serializers.ListField(child=serializers.DictField()),
                "next_cursor": serializers.IntegerField(allow_null=True),
                "next": serializers.CharField(allow_null=True),
            },
        ),
    )
    def get(self, request: Request, org_id: str) -> Response:
        if not audit_readable(membership=self.membership):
            raise PermissionDenied(
                "You need the permission 'audit.view' or 'organisation.manage' in this organisation."
            )
        filters = audit_filters_parse(params=request.query_params, max_limit=settings.API_MAX_PAGE_SIZE)
        rows, next_cursor = audit_page(organisation_id=self.organisation.id, filters=filters)
        following = None
        if next_cursor is not None:
            query = {**filters.query(), "cursor": next_cursor, "limit": filters.limit}
            following = request.build_absolute_uri(request.path) + "?" + urlencode(query)
        return Response(
            {"results": [entry_document(row) for row in rows], "next_cursor": next_cursor, "next": following}
        )
