from django.http import JsonResponse
from django.urls import path


def api_root(request):
    return JsonResponse({"name": "Flomation API", "version": "v1"})


urlpatterns = [path("", api_root, name="api-root")]
