"""URL patterns assembled from the enabled roles; a path of a disabled role is simply not routed (404)."""

from __future__ import annotations

from django.conf import settings
from django.urls import include, path

from flomation import health
from flomation.metrics import metrics_view
from flomation.roles import enabled_roles

_roles = [role for role in enabled_roles(settings.FLOMATION_ROLES) if role.serves_http]

# A database outage raised outside a view (a middleware) answers 503 too; see flomation.unavailable.
handler500 = "flomation.unavailable.server_error"

urlpatterns = []
if _roles:
    urlpatterns += [
        path("healthz", health.healthz, name="healthz"),
        path("readyz", health.readyz, name="readyz"),
        path("version", health.version, name="version"),
        path("favicon.ico", health.favicon, name="favicon"),
        path("metrics", metrics_view, name="metrics"),
    ]
# Roles mounted at the root (the editor) go last so that prefixed roles win.
for role in sorted(_roles, key=lambda r: r.prefix == ""):
    urlpatterns.append(path("", include(role.urlconf)))
