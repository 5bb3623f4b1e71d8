"""Settings → Audit: the organisation's audit log with filters, older pages and CSV/JSON export."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Refused
from flomation.editor.gateway import audit as audit_gateway
from flomation.editor.gateway import organisations as orgs


@require_GET
@editor_view(orgs.ORG_VIEW)
def audit(request: HttpRequest) -> HttpResponse:
    filters = audit_gateway.audit_filters(params=request.GET)
    rows, next_cursor = audit_gateway.audit_page(membership=request.editor.membership, filters=filters)
    query = urlencode(filters.query())
    return page(
        request,
        "editor/settings/audit.html",
        {
            "section": "audit",
            "entries": [(row, audit_gateway.summary_text(entry=row)) for row in rows],
            "filters": filters,
            "query": query,
            "next_cursor": next_cursor,
            "paged": filters.cursor is not None,
        },
    )


@require_GET
@editor_view(orgs.ORG_VIEW)
def audit_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "json"):
        raise Refused("Export as format=csv or format=json.")
    filters = audit_gateway.audit_filters(params=request.GET)
    body = audit_gateway.audit_export(membership=request.editor.membership, filters=filters, fmt=fmt)
    response = HttpResponse(body, content_type="text/csv" if fmt == "csv" else "application/json")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
