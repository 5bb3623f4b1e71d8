"""The launch role's URL set (full paths under `launch/`)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path, register_converter

from flomation.launch.views import api, chat, manual, pages, test_event, webhook


class PublicIdConverter:
    regex = "[A-Za-z0-9_-]{8,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PublicIdConverter, "pid")


def launch_root(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"name": "Flomation Launch"})


urlpatterns = [
    path("launch/", launch_root, name="launch-root"),
    path("launch/webhook/<pid:public_id>", webhook.webhook, name="launch-webhook"),
    path("launch/slack/<pid:public_id>", chat.slack, name="launch-slack"),
    path("launch/telegram/<pid:public_id>", chat.telegram, name="launch-telegram"),
    path("launch/teams/<pid:public_id>", chat.teams, name="launch-teams"),
    path("launch/form/<pid:public_id>", pages.form, name="launch-form"),
    path("launch/qr/<pid:public_id>", pages.qr, name="launch-qr"),
    path("launch/qr/<pid:public_id>.png", pages.qr, {"fmt": "png"}, name="launch-qr-png"),
    path("launch/qr/<pid:public_id>.svg", pages.qr, {"fmt": "svg"}, name="launch-qr-svg"),
    path("launch/scan/<pid:public_id>", pages.scan, name="launch-scan"),
    path("launch/image/<pid:public_id>", pages.image, name="launch-image"),
    path("launch/image/<pid:public_id>.gif", pages.image, {"fmt": "gif"}, name="launch-image-gif"),
    path("launch/image/<pid:public_id>.png", pages.image, {"fmt": "png"}, name="launch-image-png"),
    path("launch/run/<pid:public_id>", manual.run, name="launch-run"),
    path("launch/test/<str:workflow_id>/<str:node_id>", test_event.test_event, name="launch-test-event"),
    path("launch/api/triggers", api.TriggerListView.as_view(), name="launch-api-triggers"),
    path("launch/api/triggers/<pid:public_id>", api.TriggerDetailView.as_view(), name="launch-api-trigger"),
    path(
        "launch/api/triggers/<pid:public_id>/pause",
        api.TriggerPauseView.as_view(),
        name="launch-api-trigger-pause",
    ),
    path(
        "launch/api/triggers/<pid:public_id>/enable",
        api.TriggerEnableView.as_view(),
        name="launch-api-trigger-enable",
    ),
]
