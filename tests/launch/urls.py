"""Only the launch role's URLs (plus health), so launch's tests do not depend on other roles' URL sets."""

from django.urls import include, path

from flomation import health

urlpatterns = [path("healthz", health.healthz), path("", include("flomation.launch.urls"))]
