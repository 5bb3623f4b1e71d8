from __future__ import annotations

from django.apps import AppConfig


class LaunchConfig(AppConfig):
    """Trigger ingress: webhooks, forms, QR codes, pixels, manual runs, schedules and pollers."""

    name = "flomation.launch"
    label = "launch"
    verbose_name = "Launch"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from flomation.core.signals import deployment_activated
        from flomation.launch.services.sync import on_deployment_activated

        # Every deploy, rollback or promotion turns the deployed revision's trigger nodes into triggers.
        deployment_activated.connect(on_deployment_activated, dispatch_uid="launch.trigger_sync")
