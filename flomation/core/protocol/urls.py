"""The runner protocol, mounted at /api/v1/runners/ by flomation.core.urls (see docs/runner.md)."""

from django.urls import path

from flomation.core.protocol import execution_data, views

app_name = "runner-protocol"

urlpatterns = [
    path("register", views.register, name="register"),
    path("<uuid:runner_id>/whoami", views.whoami, name="whoami"),
    path("<uuid:runner_id>/claim", views.claim, name="claim"),
    path("<uuid:runner_id>/heartbeat", views.heartbeat, name="heartbeat"),
    path("<uuid:runner_id>/report", views.report, name="report"),
    path("<uuid:runner_id>/executions/<uuid:execution_id>/events", views.events, name="events"),
    path("<uuid:runner_id>/executions/<uuid:execution_id>/result", views.result, name="result"),
    path("<uuid:runner_id>/executions/<uuid:execution_id>/secrets/<str:name>", views.secret, name="secret"),
    path(
        "<uuid:runner_id>/executions/<uuid:execution_id>/connections/<str:name>",
        views.connection,
        name="connection",
    ),
    path(
        "<uuid:runner_id>/executions/<uuid:execution_id>/memory/<str:key>",
        execution_data.memory,
        name="memory",
    ),
    path(
        "<uuid:runner_id>/executions/<uuid:execution_id>/vectors/<str:operation>",
        execution_data.vectors,
        name="vectors",
    ),
    path(
        "<uuid:runner_id>/executions/<uuid:execution_id>/variables/<str:name>",
        views.variable,
        name="variable",
    ),
]
