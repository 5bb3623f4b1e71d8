"""The audit log: one append-only, hash-chained table per organisation (DESIGN §7).

Every service that changes something calls `audit_record` inside its own transaction. Identity, which
must not import core, announces its events with the `audited` signal; `receivers` records them here.
"""

from flomation.core.services.audit.integrity import ALL, ChainProblem, ChainReport, audit_prune, audit_verify
from flomation.core.services.audit.record import actor_for_runner, audit_change, audit_record

__all__ = [
    "ALL",
    "ChainProblem",
    "ChainReport",
    "actor_for_runner",
    "audit_change",
    "audit_prune",
    "audit_record",
    "audit_verify",
]
