"""Settings > Vector collections: what the organisation's flows stored, and deleting a collection."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import vectors as gateway

LIST = "/settings/vectors"


@require_GET
@editor_view(gateway.VIEW)
def collection_list(request: HttpRequest) -> HttpResponse:
    rows = gateway.collection_list(organisation=request.editor.organisation)
    context = {"collections": rows, "can_manage": request.editor.can(gateway.MANAGE), "section": "vectors"}
    return page(request, "editor/settings/vectors.html", context)


@require_POST
@editor_view(gateway.MANAGE)
def collection_delete(request: HttpRequest, collection_id: str) -> HttpResponse:
    gone = gateway.collection_delete(organisation=request.editor.organisation, collection_id=collection_id)
    messages.success(
        request, f"Deleted the collection {gone['name']} and its {gone['deleted_documents']} document(s)."
    )
    return HttpResponseRedirect(LIST)
