from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_delete, post_migrate

from flomation.core.models import Organisation, Queue, Runner
from flomation.core.services.audit import audit_change, audit_record
from flomation.lib import crypto

SHARED_QUEUE_NAME = "shared"
# How long a process reuses the shared queue's row (every run on the shared queue needs it).
SHARED_QUEUE_CACHE_SECONDS = 60.0
_shared_cache: tuple[Queue, float] | None = None


def _audited(queue: Queue, action: str, **summary: Any) -> None:
    audit_change(instance=queue, action=action, summary={"name": queue.name, **summary})


def _new_code() -> str:
    return crypto.random_token("frq_", 24)


@transaction.atomic
def queue_create(
    *, organisation: Organisation | None, name: str, parent: Queue | None = None
) -> tuple[Queue, str]:
    """Creates a queue; returns it with its registration code (also kept encrypted for admins to copy)."""
    from django.core.exceptions import ValidationError

    if not name.strip() or len(name.strip()) > 120:
        raise ValidationError({"name": "A queue name is 1 to 120 characters."})
    if Queue.objects.filter(organisation=organisation, name=name.strip()).exists():
        raise ValidationError({"name": f"There is already a queue named {name.strip()!r}."})
    if parent is not None and parent.organisation_id not in (None, getattr(organisation, "id", None)):
        raise ValidationError({"parent": "The parent queue belongs to another organisation."})
    name = name.strip()
    code = _new_code()
    queue = Queue.objects.create(
        organisation=organisation,
        name=name,
        parent=parent,
        registration_code_ciphertext=crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, code),
        registration_code_hash=crypto.sha256_hex(code),
    )
    _audited(queue, "queue.created", parent=str(parent.id) if parent else None)
    return queue, code


@transaction.atomic
def queue_rotate_code(*, queue: Queue) -> str:
    """Replaces the registration code; runners already enrolled keep working, new ones need the new code."""
    code = _new_code()
    queue.registration_code_ciphertext = crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, code)
    queue.registration_code_hash = crypto.sha256_hex(code)
    queue.save(update_fields=["registration_code_ciphertext", "registration_code_hash"])
    _audited(queue, "queue.code_rotated")
    return code


def queue_registration_code(*, queue: Queue) -> str:
    return crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, queue.registration_code_ciphertext)


def queue_shared(*, fresh: bool = False) -> Queue:
    """The platform-wide shared queue (no organisation), created on first use.

    Unless `fresh`, a row this process read in the last minute is reused: new executions need only its
    id, which does not change (a queue executions ran on is never deleted). Its registration code can
    change: read that from a `fresh` row. Only a committed row is kept (read outside any transaction),
    so a rolled-back creation is never remembered.
    """
    global _shared_cache
    cached = _shared_cache
    if not fresh and cached is not None and time.monotonic() - cached[1] < SHARED_QUEUE_CACHE_SECONDS:
        return cached[0]
    queue = Queue.objects.filter(organisation__isnull=True, name=SHARED_QUEUE_NAME).first()
    if queue:
        if not connection.in_atomic_block:
            _shared_cache = (queue, time.monotonic())
        return queue
    from django.core.exceptions import ValidationError

    try:
        with transaction.atomic():
            return queue_create(organisation=None, name=SHARED_QUEUE_NAME)[0]
    except (IntegrityError, ValidationError):
        # Another request created it meanwhile: seen by the name check (ValidationError) once it committed,
        # by the unique constraint (IntegrityError) while both were inserting.
        return Queue.objects.get(organisation__isnull=True, name=SHARED_QUEUE_NAME)


def queue_update(*, queue: Queue, name: str | None = None, parent: Queue | None | bool = False) -> Queue:
    """Renames a queue or sets its parent (parent=False: unchanged). Refuses a parent that would loop."""
    from django.core.exceptions import ValidationError

    fields = []
    before = {"name": queue.name, "parent": str(queue.parent_id or "") or None}
    if name is not None:
        if not name.strip() or len(name.strip()) > 120:
            raise ValidationError({"name": "A queue name is 1 to 120 characters."})
        queue.name = name.strip()
        fields.append("name")
    if parent is not False:
        ancestor = parent
        while isinstance(ancestor, Queue):
            if ancestor.id == queue.id:
                raise ValidationError({"parent": "A queue cannot be its own ancestor."})
            ancestor = ancestor.parent
        if isinstance(parent, Queue) and parent.organisation_id not in (None, queue.organisation_id):
            raise ValidationError({"parent": "The parent queue belongs to another organisation."})
        queue.parent = parent  # type: ignore[assignment]
        fields.append("parent")
    if fields:
        try:
            with transaction.atomic():
                queue.save(update_fields=fields)
                after = {"name": queue.name, "parent": str(queue.parent_id or "") or None}
                _audited(queue, "queue.updated", before=before, after=after)
        except IntegrityError:
            raise ValidationError({"name": f"There is already a queue named {queue.name!r}."}) from None
    return queue


def queue_delete(*, queue: Queue) -> None:
    """Deletes a queue with its runners; refused while executions still refer to it."""
    from flomation.core.services.errors import Conflict

    if queue.executions.exists():
        raise Conflict("Executions ran on this queue; it is kept for their history. Rename it instead.")
    with transaction.atomic():
        queue_id = queue.id
        queue.delete()
        queue.id = queue_id
        _audited(queue, "queue.deleted")


@transaction.atomic
def runner_set_enabled(*, runner: Runner, enabled: bool) -> Runner:
    """Enables or disables a runner; a disabled runner's requests are refused by the runner protocol."""
    before = runner.enabled
    runner.enabled = enabled
    runner.save(update_fields=["enabled"])
    if before != enabled:
        audit_record(
            action="runner.enabled" if enabled else "runner.disabled",
            organisation_id=runner.queue.organisation_id,
            target_type="runner",
            target_id=runner.id,
            related=[runner.queue_id],
            summary={"name": runner.name, "queue": runner.queue.name},
        )
    return runner


def _forget_shared_queue(**kwargs: Any) -> None:
    global _shared_cache
    _shared_cache = None


post_delete.connect(_forget_shared_queue, sender=Queue, dispatch_uid="flomation.queue_shared.delete")
# A flush (test databases between tests) truncates tables and then sends post_migrate.
post_migrate.connect(_forget_shared_queue, dispatch_uid="flomation.queue_shared.migrate")
