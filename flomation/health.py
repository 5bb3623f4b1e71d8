"""Endpoints served by every web role: health, readiness, version, and the site icon browsers ask for."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from flomation.db.routers import alias_holds_app, aliases_in_use
from flomation.unavailable import RETRY_AFTER_SECONDS, reason_of


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and answering."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Every database of this process (core's, identity's when apart) answers and has every migration
    applied; 503 otherwise."""
    try:
        pending, commands = [], []
        for alias in aliases_in_use():
            executor = MigrationExecutor(connections[alias])
            plan = [
                step
                for step in executor.migration_plan(executor.loader.graph.leaf_nodes())
                # Another database's app: its migration changes nothing here (flomation.db.routers).
                if alias_holds_app(alias, step[0].app_label)
            ]
            pending += plan
            if plan:
                option = "" if alias == "default" else f" --database {alias}"
                commands.append(f"`manage.py migrate{option}`")
    except DatabaseError as error:
        response = JsonResponse(
            {
                "status": "unavailable",
                "database": "unreachable",
                "reason": f"the database is unavailable: {reason_of(error)}",
            },
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if pending:
        return JsonResponse(
            {
                "status": "unavailable",
                "database": "ok",
                "pending_migrations": len(pending),
                "reason": f"{len(pending)} migration(s) not applied yet: run {' and '.join(commands)}",
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok"})


@never_cache
def version(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"version": settings.FLOMATION_VERSION, "roles": sorted(settings.FLOMATION_ROLES)})


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask every origin for /favicon.ico; the icon is the editor's SVG."""
    return HttpResponsePermanentRedirect(static("editor/favicon.svg"))
