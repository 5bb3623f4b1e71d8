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
        from flomation.launch import checks  # noqa: F401  (registers the system checks)
        from flomation.launch.services.sync import on_deployment_activated

        # Every deploy, rollback or promotion turns the deployed revision's trigger nodes into triggers.
        deployment_activated.connect(on_deployment_activated, dispatch_uid="launch.trigger_sync")

        from flomation.core.signals import execution_suspended
        from flomation.launch.chat.approvals import on_execution_suspended

        # An approval in a run a chat started is asked in that chat (Slack, Telegram).
        execution_suspended.connect(on_execution_suspended, dispatch_uid="launch.approval_prompt")

        from django.db.models.signals import post_save

        from flomation.launch.ingress import forget_trigger
        from flomation.launch.models import Trigger

        def drop_cached(sender: type, instance: Trigger, **kwargs: object) -> None:
            forget_trigger(instance.public_id)

        # Changes saved in this process reach the ingress cache at once (other processes: within its TTL).
        post_save.connect(drop_cached, sender=Trigger, dispatch_uid="launch.forget_trigger", weak=False)
