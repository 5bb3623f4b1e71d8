"""The api role's background loops (see flomation.loops.PollingLoop for the shape)."""

from __future__ import annotations

from flomation.core.executions.control import execution_resume_due_one, execution_retention_purge
from flomation.core.services.audit import audit_prune
from flomation.loops import PollingLoop


class ResumeDueLoop(PollingLoop):
    """Resumes suspended executions whose resume time has passed (common/wait, approval time-outs)."""

    name = "resume-due"
    idle_seconds = 2.0

    def handle_one(self) -> bool:
        return execution_resume_due_one()


class RetentionLoop(PollingLoop):
    """Deletes finished executions older than EXECUTION_RETENTION_DAYS, a batch at a time."""

    name = "retention"
    idle_seconds = 600.0
    batch_size = 500

    def handle_one(self) -> bool:
        return execution_retention_purge(batch_size=self.batch_size) >= self.batch_size


class AuditRetentionLoop(PollingLoop):
    """Prunes audit entries older than AUDIT_RETENTION_DAYS, whole prefixes of each chain, recording each
    prune. Hourly is plenty for a retention counted in days."""

    name = "audit-retention"
    idle_seconds = 3600.0

    def handle_one(self) -> bool:
        audit_prune()
        return False


resume_due = ResumeDueLoop()
retention = RetentionLoop()
audit_retention = AuditRetentionLoop()
