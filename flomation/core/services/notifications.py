"""Email about finished executions: on failure (and on success when the workflow asks), through Celery."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from flomation.core.models import Execution, ExecutionState, MemberRole, Membership

logger = logging.getLogger(__name__)

FAILED_STATES = frozenset({ExecutionState.FAILED, ExecutionState.TIMED_OUT})


def execution_notify(*, execution_id: Any) -> None:
    """Queues the outcome email for a finished execution (after the caller's transaction commits).

    Called by the runner protocol once a final result is stored. Safe to call more than once: the
    email goes out at most once per execution.
    """
    from flomation.core.tasks import execution_notification_send

    transaction.on_commit(lambda: execution_notification_send.delay(str(execution_id)))


def notification_recipients(*, execution: Execution) -> list[str]:
    """The workflow's configured recipients, else the organisation's owners."""
    if execution.workflow.notify_recipients:
        return sorted(set(execution.workflow.notify_recipients))
    emails = Membership.objects.filter(
        organisation_id=execution.organisation_id, role=MemberRole.OWNER
    ).values_list("account__email", flat=True)
    return sorted({email for email in emails if email})


def notification_due(*, state: str, notify_on_failure: bool, notify_on_success: bool) -> bool:
    """True if an execution that ended in `state` gets an outcome email under its workflow's settings.

    The runner protocol asks this before queueing anything, so a finish that emails nobody costs nothing.
    """
    if not settings.NOTIFICATIONS_ENABLED:
        return False
    if state in FAILED_STATES:
        return notify_on_failure
    if state == ExecutionState.SUCCEEDED:
        return notify_on_success
    return False


def _wants_email(execution: Execution) -> bool:
    workflow = execution.workflow
    return notification_due(
        state=execution.state,
        notify_on_failure=workflow.notify_on_failure,
        notify_on_success=workflow.notify_on_success,
    )


def execution_notification_deliver(*, execution_id: Any) -> bool:
    """Sends the outcome email if the workflow wants one; returns True if an email was sent."""
    if not settings.NOTIFICATIONS_ENABLED:
        return False
    execution = (
        Execution.objects.select_related("workflow", "environment", "organisation")
        .filter(id=execution_id)
        .first()
    )
    if execution is None or execution.state not in ExecutionState.finished() or not _wants_email(execution):
        return False
    recipients = notification_recipients(execution=execution)
    if not recipients:
        return False
    # Claim the notification first so that a duplicate task sends nothing.
    if not Execution.objects.filter(id=execution.id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    ):
        return False
    outcome = "failed" if execution.state in FAILED_STATES else "succeeded"
    environment = execution.environment.name if execution.environment else "test run"
    link = f"{settings.EDITOR_URL.rstrip('/')}/executions/{execution.id}"
    body = (
        f"The workflow {execution.workflow.name!r} {outcome} ({execution.state}).\n\n"
        f"Organisation: {execution.organisation.name}\n"
        f"Environment: {environment}\n"
        f"Execution: {execution.id}\n"
        f"Trigger: {execution.trigger_type}\n"
        f"Finished: {execution.finished_at or timezone.now():%Y-%m-%d %H:%M:%S %Z}\n"
    )
    if execution.error:
        body += f"\nError:\n{execution.error[:2000]}\n"
    body += f"\nDetails: {link}\n"
    try:
        send_mail(
            subject=f"[Flomation] {execution.workflow.name} {outcome}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    except Exception:
        # Give the notification back so a retry can send it.
        Execution.objects.filter(id=execution.id).update(notified_at=None)
        logger.exception("could not send the outcome email for execution %s", execution.id)
        raise
    return True
