"""Reads of the audit log: one organisation's entries, filtered, newest first, a page at a time."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from flomation.core.models import AuditEntry, Membership
from flomation.core.permissions import membership_has

DEFAULT_PAGE = 50
EXPORT_LIMIT = 10_000


@dataclass(frozen=True)
class AuditFilters:
    """actor: an account, token or runner id, or part of an email/label; action: exact, or a prefix
    ending in '.' or '.*' (`workflow.*`); target: any id the entry names; since/until: a time range
    (until excluded); cursor: the id an earlier page ended before."""

    actor: str = ""
    action: str = ""
    target: str = ""
    since: datetime | None = None
    until: datetime | None = None
    cursor: int | None = None
    limit: int = DEFAULT_PAGE

    def query(self) -> dict[str, str]:
        """The filters (not the cursor) as query parameters, for links to the next page and exports."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {name: value for name, value in values.items() if value}


def _moment(params: Mapping[str, Any], name: str, errors: dict[str, str]) -> datetime | None:
    text = str(params.get(name) or "").strip()
    if not text:
        return None
    try:
        moment = parse_datetime(text) or (parse_datetime(text + "T00:00:00") if len(text) == 10 else None)
    except ValueError:
        moment = None
    if moment is None:
        errors[name] = f"Give {name} as an ISO 8601 date or date and time, e.g. 2026-01-31T09:30:00Z."
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _whole(params: Mapping[str, Any], name: str, high: int, errors: dict[str, str]) -> int | None:
    text = str(params.get(name) or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 18 and 1 <= int(text) <= high):
        errors[name] = f"Give {name} as a whole number from 1 to {high}."
        return None
    return int(text)


def audit_filters_parse(*, params: Mapping[str, Any], max_limit: int = 1000) -> AuditFilters:
    """The filters from query parameters; ValidationError naming every parameter that is wrong."""
    errors: dict[str, str] = {}
    text = {name: str(params.get(name) or "").strip()[:300] for name in ("actor", "action", "target")}
    since, until = _moment(params, "since", errors), _moment(params, "until", errors)
    if since and until and until <= since:
        errors["until"] = "until must be later than since."
    cursor = _whole(params, "cursor", 2**62, errors)
    limit = _whole(params, "limit", max_limit, errors)
    if errors:
        raise ValidationError({name: [message] for name, message in errors.items()})
    return AuditFilters(**text, since=since, until=until, cursor=cursor, limit=limit or DEFAULT_PAGE)


def _filtered(entries: QuerySet[AuditEntry], filters: AuditFilters) -> QuerySet[AuditEntry]:
    if filters.actor:
        match = Q(actor_id=filters.actor) | Q(actor_label__icontains=filters.actor)
        with contextlib.suppress(ValueError):
            match |= Q(actor_account=uuid.UUID(filters.actor))
        entries = entries.filter(match)
    if filters.action:
        prefix = filters.action.removesuffix("*")
        entries = (
            entries.filter(action__startswith=prefix)
            if prefix.endswith(".")
            else entries.filter(action=filters.action)
        )
    if filters.target:
        entries = entries.filter(target_ids__contains=[filters.target])
    if filters.since:
        entries = entries.filter(created_at__gte=filters.since)
    if filters.until:
        entries = entries.filter(created_at__lt=filters.until)
    if filters.cursor:
        entries = entries.filter(id__lt=filters.cursor)
    return entries


def audit_page(*, organisation_id: Any, filters: AuditFilters) -> tuple[list[AuditEntry], int | None]:
    """(a page of the organisation's entries, newest first; the cursor of the next page or None)."""
    entries = _filtered(AuditEntry.objects.filter(organisation_id=organisation_id), filters)
    rows = list(entries.order_by("-id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return rows, (rows[-1].id if more and rows else None)


def audit_export(*, organisation_id: Any, filters: AuditFilters) -> list[AuditEntry]:
    """Every matching entry (up to EXPORT_LIMIT), newest first, for a CSV or JSON download."""
    entries = _filtered(AuditEntry.objects.filter(organisation_id=organisation_id), filters)
    return list(entries.order_by("-id")[:EXPORT_LIMIT])


def audit_readable(*, membership: Membership) -> bool:
    """Whether the member may read the organisation's audit log: `audit.view` or `organisation.manage`."""
    return membership_has(membership=membership, permission="audit.view") or membership_has(
        membership=membership, permission="organisation.manage"
    )


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the API, the exports and the stream show it."""
    return {
        "id": entry.id,
        "organisation": str(entry.organisation_id) if entry.organisation_id else None,
        "seq": entry.seq,
        "at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": {
            "type": entry.actor_type,
            "id": entry.actor_id,
            "label": entry.actor_label,
            "account": str(entry.actor_account) if entry.actor_account else None,
        },
        "action": entry.action,
        "target": {"type": entry.target_type, "id": entry.target_id, "ids": list(entry.target_ids)},
        "source_ip": entry.source_ip,
        "user_agent": entry.user_agent,
        "summary": entry.summary,
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
    }


CSV_COLUMNS = [
    "id",
    "at",
    "actor_type",
    "actor",
    "action",
    "target_type",
    "target_id",
    "source_ip",
    "summary",
]


def entry_row(entry: AuditEntry) -> list[str]:
    """An entry as a CSV row (CSV_COLUMNS)."""
    import json

    return [
        str(entry.id),
        entry.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        entry.actor_type,
        entry.actor_label or entry.actor_id,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.source_ip,
        json.dumps(entry.summary, sort_keys=True),
    ]
