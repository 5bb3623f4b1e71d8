from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from flomation.core.models import Organisation, Queue
from flomation.lib import crypto

SHARED_QUEUE_NAME = "shared"


def _new_code() -> str:
    return crypto.random_token("frq_", 24)


def queue_create(*, organisation: Organisation | None, name: str, parent: Queue | None = None) -> tuple[Queue, str]:
    """Creates a queue; returns it with its registration code (also kept encrypted for admins to copy)."""
    code = _new_code()
    queue = Queue.objects.create(
        organisation=organisation,
        name=name,
        parent=parent,
        registration_code_ciphertext=crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, code),
        registration_code_hash=crypto.sha256_hex(code),
    )
    return queue, code


def queue_rotate_code(*, queue: Queue) -> str:
    """Replaces the registration code; runners already enrolled keep working, new ones need the new code."""
    code = _new_code()
    queue.registration_code_ciphertext = crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, code)
    queue.registration_code_hash = crypto.sha256_hex(code)
    queue.save(update_fields=["registration_code_ciphertext", "registration_code_hash"])
    return code


def queue_registration_code(*, queue: Queue) -> str:
    return crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, queue.registration_code_ciphertext)


def queue_shared() -> Queue:
    """The platform-wide shared queue (no organisation), created on first use."""
    queue = Queue.objects.filter(organisation__isnull=True, name=SHARED_QUEUE_NAME).first()
    if queue:
        return queue
    try:
        with transaction.atomic():
            return queue_create(organisation=None, name=SHARED_QUEUE_NAME)[0]
    except IntegrityError:
        return Queue.objects.get(organisation__isnull=True, name=SHARED_QUEUE_NAME)
