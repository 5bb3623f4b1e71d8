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


class FlowsFolderLoop(PollingLoop):
    """Loads FLOWS_PATH at start and whenever its files change (see core.services.flow_sources.folder)."""

    name = "flows-folder"
    idle_seconds = 1.0

    def handle_one(self) -> bool:
        from flomation.core.services.flow_sources.folder import flows_folder_sync_one

        return flows_folder_sync_one() is not None


class GitSyncLoop(PollingLoop):
    """Fetches organisations' flow repositories when due (their interval, or a push webhook made them due)."""

    name = "git-sync"
    idle_seconds = 2.0

    def handle_one(self) -> bool:
        from flomation.core.services.flow_sources.git import git_sync_one

        return git_sync_one() is not None


flows_folder = FlowsFolderLoop()
git_sync = GitSyncLoop()
