"""Celery tasks of the api role. They take ids and reload rows (no ORM objects cross the broker)."""

from __future__ import annotations

from celery import shared_task

from flomation.core.services.notifications import execution_notification_deliver


@shared_task(
    name="flomation.core.execution_notification_send",
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
)
def execution_notification_send(execution_id: str) -> bool:
    return execution_notification_deliver(execution_id=execution_id)
