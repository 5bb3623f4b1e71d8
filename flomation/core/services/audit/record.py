"""audit_record: the one function every audited service calls, inside the transaction of its change."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flomation.core.models import AuditEntry
from flomation.core.services.audit.chain import chain_head_locked, entry_hash
from flomation.core.services.audit.stream import entry_stream
from flomation.lib.audit_context import Actor, actor_current, origin_current

# A summary never carries a value that might be secret, whichever service built it: these keys are dropped.
SECRET_KEYS = frozenset(
    {"value", "password", "secret", "token", "plaintext", "ciphertext", "code", "fields", "seed", "totp"}
)


def _scrubbed(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _scrubbed(v) for k, v in value.items() if str(k).lower() not in SECRET_KEYS}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrubbed(v) for v in value]
    return value


def _plain(summary: dict[str, Any] | None) -> dict[str, Any]:
    """JSON-safe (ids and dates as text), as it will read back from the database, without secret keys."""
    return json.loads(json.dumps(_scrubbed(summary or {}), default=str))


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def actor_for_runner(runner: Any) -> Actor:
    return Actor("runner", id=str(runner.id), label=str(runner.name or "runner")[:300])


def audit_record(
    *,
    action: str,
    organisation_id: Any = None,
    target_type: str = "",
    target_id: Any = "",
    related: Iterable[Any] = (),
    summary: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry | None:
    """Appends one entry to the organisation's chain (None: the platform's) and returns it.

    Call it inside the transaction of the change it records, so both commit or neither does; it takes
    the chain's lock until that transaction ends. `actor` defaults to whoever the request authenticated
    as (system outside a request); the source address and user agent come from the request.
    `summary` is a small before/after description: never put a secret value in it (keys that usually
    hold one are dropped anyway). Returns None only when auditing is switched off (benchmarks).
    """
    if not settings.AUDIT_ENABLED:
        return None
    actor = actor or actor_current()
    origin = origin_current()
    ids = [str(target_id)] if target_id not in (None, "") else []
    ids += [str(item) for item in related if item not in (None, "") and str(item) not in ids]
    # No savepoint of its own (two round trips fewer): an entry that cannot be written fails the change.
    with transaction.atomic(savepoint=False):
        organisation = _uuid(organisation_id)
        seq, previous = chain_head_locked(organisation)
        entry = AuditEntry(
            organisation_id=organisation,
            seq=seq + 1,
            created_at=timezone.now(),
            actor_type=actor.type,
            actor_id=actor.id[:64],
            actor_label=actor.label[:300],
            actor_account=_uuid(actor.account),
            action=action,
            target_type=target_type,
            target_id=str(target_id or "")[:64],
            target_ids=[item[:64] for item in ids],
            source_ip=origin.address[:45],
            user_agent=origin.user_agent[:300],
            summary=_plain(summary),
            prev_hash=previous,
        )
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
        if settings.AUDIT_STREAM:
            transaction.on_commit(lambda: entry_stream(entry))
    return entry


def audit_change(
    *,
    instance: Any,
    action: str,
    summary: dict[str, Any] | None = None,
    related: Iterable[Any] = (),
) -> AuditEntry | None:
    """audit_record for a change to one row of an organisation: the row's organisation and id, and the
    action's entity (`group` of `group.deleted`) as the target type. Keep the row's id set after a delete."""
    return audit_record(
        action=action,
        organisation_id=instance.organisation_id,
        target_type=action.partition(".")[0],
        target_id=instance.pk,
        related=related,
        summary=summary,
    )
