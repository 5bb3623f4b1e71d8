"""Settings > Git sync: connect the organisation's flow repository, see the last sync and its errors."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Refused
from flomation.editor.gateway import deployments as deploys
from flomation.editor.gateway import git_sync as gateway
from flomation.editor.gateway import organisations as orgs

PAGE = "/settings/git"


@require_GET
@editor_view(orgs.VIEW)
def git_settings(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _page(request: HttpRequest, secret: str = "") -> HttpResponse:
    """The page; `secret` is a webhook secret just made, shown in this answer only (never stored in clear)."""
    organisation = request.editor.organisation
    source = gateway.git_source(organisation=organisation)
    context = {
        "section": "git",
        "source": source,
        "webhook_url": gateway.webhook_url(source=source, base=request.build_absolute_uri("/"))
        if source
        else "",
        "connections": gateway.git_connections(organisation=organisation),
        "environments": deploys.environment_list(organisation=organisation),
        "can_manage": request.editor.can(orgs.DEPLOY),
        "secret": secret,
    }
    return page(request, "editor/settings/git.html", context)


@require_POST
@editor_view(orgs.DEPLOY)
def git_settings_change(request: HttpRequest, action: str) -> HttpResponse:
    organisation = request.editor.organisation
    source = gateway.git_source(organisation=organisation)
    try:
        if action == "save":
            source, secret = gateway.git_source_save(organisation=organisation, form=request.POST)
            messages.success(request, "Saved. The repository will be fetched within seconds.")
            if secret:
                return _page(request, secret)
        elif source is None:
            raise Refused("No repository is connected.", 404)
        elif action == "sync":
            gateway.git_source_sync_now(source=source)
            messages.success(request, "The repository will be fetched within seconds.")
        elif action == "secret":
            secret = gateway.git_source_rotate_secret(source=source)
            messages.success(request, "Made a new webhook secret; the old one no longer works.")
            return _page(request, secret)
        elif action == "disconnect":
            gateway.git_source_disconnect(organisation=organisation)
            messages.success(request, "Disconnected. Its workflows stay as they are and can be edited here.")
        else:
            raise Refused("Unknown action.", 404)
    except Refused as refused:
        if refused.status == 404:
            raise
        messages.error(request, str(refused))
    return HttpResponseRedirect(PAGE)
