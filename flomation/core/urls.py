"""The api role's URL set: the REST API, the runner protocol and the operators' admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/v1/runners/", include("flomation.core.protocol.urls")),
    path("api/v1/", include("flomation.core.api.urls")),
    path("admin/", admin.site.urls),
]
