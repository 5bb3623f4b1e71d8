"""Signals other components listen to, so core never imports them.

deployment_activated(sender=Deployment, deployment=Deployment): a deployment became current for its
workflow and environment (deploy, rollback or promotion). Launch turns its trigger nodes into triggers.
"""

from django.dispatch import Signal

deployment_activated = Signal()

# workflow_state_changed(sender=Workflow, workflow=Workflow, previous=str): the lifecycle state moved
# (paused, activated, archived, restored). Launch stops or restarts the workflow's triggers.
workflow_state_changed = Signal()

# execution_suspended(sender=Execution, execution_id, workflow_id, environment_id, trigger_data, suspend_info):
# sent after the commit of a runner's report that an execution suspended (wait, pause, approval). Launch
# asks an approval's question in the chat the execution came from.
execution_suspended = Signal()
