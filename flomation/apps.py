from __future__ import annotations

from django.apps import AppConfig


class FlomationConfig(AppConfig):
    """The project package as an app: management commands (serve, runserver --role), checks, Celery."""

    name = "flomation"
    label = "flomation"
    verbose_name = "Flomation platform"

    def ready(self) -> None:
        from flomation import checks  # noqa: F401  (registers the system checks)
        from flomation.celery import app  # noqa: F401  (shared tasks bind to this app)
