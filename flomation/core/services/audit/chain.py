"""The hash chain: what an entry's hash covers, and the lock that keeps one organisation's chain in order."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from django.db import connection

from flomation.core.models import AuditEntry

PLATFORM = "platform"  # the chain of entries that belong to no organisation (logins, shared queues, admin)


def chain_key(organisation_id: Any) -> str:
    return str(organisation_id) if organisation_id else PLATFORM


def entry_content(entry: AuditEntry) -> str:
    """The canonical text an entry's hash covers: every column but the id and the hash itself."""
    return json.dumps(
        {
            "organisation": str(entry.organisation_id) if entry.organisation_id else None,
            "seq": entry.seq,
            "at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": [entry.actor_type, entry.actor_id, entry.actor_label, str(entry.actor_account or "")],
            "action": entry.action,
            "target": [entry.target_type, entry.target_id, list(entry.target_ids)],
            "source": [entry.source_ip, entry.user_agent],
            "summary": entry.summary,
            "prev": entry.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(entry_content(entry).encode()).hexdigest()


def chain_head_locked(organisation_id: Any) -> tuple[int, str]:
    """(seq, hash) of the chain's newest entry, (0, "") for an empty chain, holding the chain's lock until
    the transaction ends so that entries of one organisation are appended one at a time."""
    table = AuditEntry._meta.db_table
    # `=` and `IS NULL` apart: IS NOT DISTINCT FROM would not use the (organisation_id, seq) index.
    where, params = (
        ("organisation_id = %s", [organisation_id]) if organisation_id else ("organisation_id IS NULL", [])
    )
    with connection.cursor() as cursor:
        # Two statements in one round trip. Each takes its own snapshot, so the head is read after the lock
        # is held: in one statement it could miss the entry the lock's previous holder just committed.
        cursor.execute(
            f"SELECT pg_advisory_xact_lock(hashtextextended(%s, 7919)); "
            f"SELECT seq, hash FROM {table} WHERE {where} ORDER BY seq DESC LIMIT 1",
            ["audit:" + chain_key(organisation_id), *params],
        )
        cursor.cursor.nextset()
        row = cursor.fetchone()
    return (int(row[0]), row[1]) if row else (0, "")
