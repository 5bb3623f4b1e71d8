"""Identity's Celery tasks."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=10,
    retry_backoff_max=300,
    max_retries=5,
)
def email_send(*, to: str, subject: str, body: str) -> None:
    """Sends one plain-text email through the configured backend (SMTP_* settings, or the console)."""
    if not settings.NOTIFICATIONS_ENABLED:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        # The body holds a secret link: log the failure, never the message.
        logger.warning("Sending %r to %s failed: %s", subject, to, exc.__class__.__name__)
        raise
