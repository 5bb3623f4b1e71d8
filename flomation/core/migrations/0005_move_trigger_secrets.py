"""Moves trigger secrets saved in plaintext in revisions into encrypted FlowSecret rows.

Revisions keep `{"secret_ref": "<id>"}` in their place, and what those revisions' executions recorded
(steps, node results, checkpoints) has the values masked (triggers used to echo their inputs as outputs). Reversing puts the values back into the
revisions before FlowSecret is dropped, so no secret is lost either way.
"""

from django.db import migrations


def forward(apps, schema_editor):
    from flomation.core.services.flow_secrets import revisions_move_plaintext_secrets

    revisions_move_plaintext_secrets(
        revision_model=apps.get_model("core", "Revision"),
        secret_model=apps.get_model("core", "FlowSecret"),
        step_model=apps.get_model("core", "ExecutionStep"),
        execution_model=apps.get_model("core", "Execution"),
    )


def backward(apps, schema_editor):
    from flomation.core.services.flow_secrets import revisions_restore_plaintext_secrets

    revisions_restore_plaintext_secrets(
        revision_model=apps.get_model("core", "Revision"),
        secret_model=apps.get_model("core", "FlowSecret"),
    )


class Migration(migrations.Migration):
    # Each revision is its own transaction, so a long run can be stopped and started again.
    atomic = False

    dependencies = [("core", "0004_flow_secrets")]

    operations = [migrations.RunPython(forward, backward)]
