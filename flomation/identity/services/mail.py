"""Emails identity sends (verification, password reset), rendered here and sent by a Celery task."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def mail_send(*, to: str, template: str, context: dict[str, Any]) -> None:
    """Queues an email from identity/email/<template>_subject.txt and <template>.txt.

    With no broker (tasks run eagerly) the send happens on a background thread, so that the answer
    to a request takes about as long whether or not an email was sent (no hint that an account exists).
    """
    if not settings.NOTIFICATIONS_ENABLED:
        logger.info("Notifications are disabled (NOTIFICATIONS_ENABLED=false): no %s email sent.", template)
        return
    from flomation.identity.tasks import email_send

    context = {"realm": settings.AUTH_REALM, **context}
    subject = render_to_string(f"identity/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"identity/email/{template}.txt", context)
    kwargs = {"to": to, "subject": subject, "body": body}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        threading.Thread(target=email_send.apply, kwargs={"kwargs": kwargs}, daemon=True).start()
    else:
        email_send.apply_async(kwargs=kwargs)
