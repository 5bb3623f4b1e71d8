"""Proof that nobody rewrote the log (audit_verify), and retention that prunes whole prefixes (audit_prune)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flomation.core.models import AuditEntry
from flomation.core.services.audit.chain import chain_head_locked, entry_hash
from flomation.core.services.audit.record import audit_record
from flomation.lib.audit_context import SYSTEM

logger = logging.getLogger(__name__)

PRUNED = "audit.pruned"
ALL = object()


@dataclass(frozen=True)
class ChainProblem:
    organisation_id: Any
    entry_id: int
    seq: int
    reason: str

    def __str__(self) -> str:
        chain = f"organisation {self.organisation_id}" if self.organisation_id else "the platform"
        return f"entry {self.entry_id} (#{self.seq} of {chain}): {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    chains: int
    entries: int
    problems: list[ChainProblem]


def _chains(organisation_id: Any) -> list[Any]:
    if organisation_id is not ALL:
        return [organisation_id]
    return list(AuditEntry.objects.order_by().values_list("organisation_id", flat=True).distinct())


def _entries(organisation_id: Any, batch: int = 2000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = list(
            AuditEntry.objects.filter(organisation_id=organisation_id, seq__gt=after).order_by("seq")[:batch]
        )
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def _pruned_through(organisation_id: Any) -> dict[int, str]:
    """{last pruned seq: its hash} from the chain's prune records: where a pruned chain may begin."""
    return {
        int(summary.get("through_seq", 0)): str(summary.get("through_hash", ""))
        for summary in AuditEntry.objects.filter(organisation_id=organisation_id, action=PRUNED).values_list(
            "summary", flat=True
        )
    }


def _chain_problem(organisation_id: Any) -> tuple[int, ChainProblem | None]:
    """(entries checked, the first entry that does not match or None)."""
    expected_seq, expected_prev, count = None, "", 0
    for entry in _entries(organisation_id):
        count += 1
        if expected_seq is None:  # the first entry left: the chain's start, or just after a recorded prune
            expected_seq = entry.seq
            if entry.seq != 1:
                expected_prev = _pruned_through(organisation_id).get(entry.seq - 1)
                if expected_prev is None:
                    reason = (
                        f"the chain starts at #{entry.seq} but no prune of #1 to #{entry.seq - 1} is recorded"
                    )
                    return count, ChainProblem(organisation_id, entry.id, entry.seq, reason)
        if entry.seq != expected_seq:
            reason = f"entry #{expected_seq} is missing (the next one is #{entry.seq})"
            return count, ChainProblem(organisation_id, entry.id, entry.seq, reason)
        if entry.prev_hash != expected_prev:
            reason = "its link to the previous entry does not match (an entry was removed or changed)"
            return count, ChainProblem(organisation_id, entry.id, entry.seq, reason)
        if entry_hash(entry) != entry.hash:
            reason = "its content does not match its hash (the entry was changed)"
            return count, ChainProblem(organisation_id, entry.id, entry.seq, reason)
        expected_seq, expected_prev = entry.seq + 1, entry.hash
    return count, None


def audit_verify(*, organisation_id: Any = ALL) -> ChainReport:
    """Recomputes every chain (or one organisation's; None is the platform's) and names, per chain, the
    first entry that does not match."""
    chains = _chains(organisation_id)
    problems, total = [], 0
    for chain in chains:
        count, problem = _chain_problem(chain)
        total += count
        if problem is not None:
            problems.append(problem)
    return ChainReport(chains=len(chains), entries=total, problems=problems)


def audit_prune(*, now: datetime | None = None, retention_days: int | None = None) -> int:
    """Deletes, chain by chain, the longest prefix of entries older than the retention period and records
    each prune (through which entry, with its hash, so the rest still verifies). Returns how many went."""
    days = settings.AUDIT_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed = 0
    stale_chains = (
        AuditEntry.objects.filter(created_at__lt=cutoff)
        .exclude(action=PRUNED)
        .order_by()
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    for organisation_id in list(stale_chains):
        removed += _prune_chain(organisation_id, cutoff)
    return removed


def _prune_chain(organisation_id: Any, cutoff: datetime) -> int:
    with transaction.atomic():
        # The lock: no entry is appended while the prefix goes. The newest entry always stays, so the
        # prune record links to it and the chain's numbering goes on.
        head_seq, _ = chain_head_locked(organisation_id)
        entries = AuditEntry.objects.filter(organisation_id=organisation_id, seq__lt=head_seq)
        newer = entries.filter(created_at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
        prefix = entries.filter(created_at__lt=cutoff)
        if newer is not None:
            prefix = prefix.filter(seq__lt=newer)  # a whole prefix only: never a hole in the chain
        last = prefix.order_by("-seq").values("seq", "hash").first()
        if last is None:
            return 0
        deleted, _ = AuditEntry.objects.filter(organisation_id=organisation_id, seq__lte=last["seq"]).delete()
        audit_record(
            action=PRUNED,
            organisation_id=organisation_id,
            summary={
                "through_seq": last["seq"],
                "through_hash": last["hash"],
                "count": deleted,
                "older_than": cutoff.isoformat(),
            },
            actor=SYSTEM,
        )
    logger.info(
        "Pruned %s audit entries of %s older than %s.", deleted, organisation_id or "the platform", cutoff
    )
    return deleted
