"""The api role's background loops (see flomation.loops.PollingLoop for the shape)."""

from __future__ import annotations

from flomation.core.executions.control import execution_resume_due_one, execution_retention_purge
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


resume_due = ResumeDueLoop()
retention = RetentionLoop()
