from django.contrib import admin
from django.http import JsonResponse
from django.urls import path


def api_root(request):
    return JsonResponse({"name": "Flomation API", "version": "v1"})


urlpatterns = [
    path("api/v1/", api_root, name="api-root"),
    path("admin/", admin.site.urls),
]
