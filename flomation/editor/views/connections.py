"""Settings > Connections: list, create, edit (secret fields write-only), delete and test."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Forbidden
from flomation.editor.gateway import connections as gateway
from flomation.editor.gateway import deployments as deploys

LIST = "/settings/connections"


def _form_context(request: HttpRequest) -> dict[str, object]:
    return {
        "types": gateway.types(),
        "environments": deploys.environment_list(organisation=request.editor.organisation),
        "can_manage": request.editor.can(gateway.MANAGE),
        "can_use": request.editor.can(gateway.USE),
        "section": "connections",
    }


@require_GET
@editor_view(gateway.VIEW)
def connection_list(request: HttpRequest) -> HttpResponse:
    rows = gateway.connection_views(organisation=request.editor.organisation)
    return page(request, "editor/settings/connections.html", {"connections": rows, **_form_context(request)})


@require_POST
@editor_view(gateway.MANAGE)
def connection_create(request: HttpRequest) -> HttpResponse:
    row = gateway.connection_create(organisation=request.editor.organisation, form=request.POST)
    messages.success(
        request, f"Created the connection {row.name}. Its secret fields will not be shown again."
    )
    return HttpResponseRedirect(LIST)


@require_http_methods(["GET", "POST"])
@editor_view(gateway.VIEW)
def connection_edit(request: HttpRequest, connection_id: str) -> HttpResponse:
    organisation = request.editor.organisation
    if request.method == "POST":
        if not request.editor.can(gateway.MANAGE):
            raise Forbidden("Changing connections needs the permission 'connection.manage'.")
        row = gateway.connection_update(
            organisation=organisation, connection_id=connection_id, form=request.POST
        )
        messages.success(request, f"Saved the connection {row.name}.")
        return HttpResponseRedirect(LIST)
    view = gateway.connection_view(organisation=organisation, connection_id=connection_id)
    kind = next(t for t in gateway.types() if t["type"] == view.connection.type)
    rows = []
    for field in kind["fields"]:
        value = view.fields.get(field["name"])
        is_set = bool(value.get("set")) if isinstance(value, dict) else False
        rows.append({"field": field, "value": None if field["secret"] else value, "set": is_set})
    return page(
        request,
        "editor/settings/connection_edit.html",
        {"view": view, "kind": kind, "rows": rows, **_form_context(request)},
    )


@require_POST
@editor_view(gateway.MANAGE)
def connection_delete(request: HttpRequest, connection_id: str) -> HttpResponse:
    name = gateway.connection_delete(organisation=request.editor.organisation, connection_id=connection_id)
    messages.success(
        request, f"Deleted the connection {name}. Flows that use it will fail until it is replaced."
    )
    return HttpResponseRedirect(LIST)


@require_POST
@editor_view(gateway.USE, json_view=True)
def connection_test(request: HttpRequest, connection_id: str) -> JsonResponse:
    answer = gateway.connection_test(organisation=request.editor.organisation, connection_id=connection_id)
    response = JsonResponse(answer)
    response["Cache-Control"] = "no-store"
    return response
