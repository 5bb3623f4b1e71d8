from django.http import JsonResponse
from django.urls import path


def launch_root(request):
    return JsonResponse({"name": "Flomation Launch"})


urlpatterns = [path("launch/", launch_root, name="launch-root")]
