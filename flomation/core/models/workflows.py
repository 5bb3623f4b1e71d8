from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from flomation.core.models.organisations import Account, Organisation


class WorkflowState(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "published"
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class Workflow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=WorkflowState.choices, default=WorkflowState.DRAFT)
    queue = models.ForeignKey(
        "core.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="workflows",
        help_text="Runs go to this queue; empty means the organisation's default (shared runners).",
    )  # fmt: skip
    latest_revision = models.PositiveIntegerField(default=0)
    notify_on_failure = models.BooleanField(default=True)
    notify_on_success = models.BooleanField(default=False)
    notify_recipients = ArrayField(
        models.EmailField(), default=list, blank=True,
        help_text="Who is emailed about runs; empty means the organisation's owners.",
    )  # fmt: skip
    created_by = models.ForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Managed in files (a folder or a Git repository): saves are refused; the file at `source_path` is the
    # truth, `source_hash` the digest of its last applied content.
    source = models.ForeignKey(
        "core.FlowSource", null=True, blank=True, on_delete=models.SET_NULL, related_name="workflows"
    )
    source_path = models.CharField(max_length=500, blank=True)
    source_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organisation", "state", "-updated_at"])]

    def __str__(self) -> str:
        return self.name


class Revision(models.Model):
    """A numbered version of a workflow's flow JSON.

    Autosaves coalesce: an unnamed save shortly after another by the same author updates that revision in
    place (`edits` counts how often, so a stale editor is still refused) until it is sealed by a named save,
    the author leaving the editor, or a deployment; a deployed revision never changes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    flow = models.JSONField()
    message = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    commit_sha = models.CharField(max_length=64, blank=True, help_text="the Git commit it came from")
    # Coalescing: how often the revision was updated in place, when last, and whether it is closed to that.
    edits = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    sealed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="core_revision_unique_number")
        ]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.workflow_id} r{self.number}"


class WorkflowFavourite(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="favourites")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="favourites")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "account"], name="core_favourite_unique")]


class Deployment(models.Model):
    """Revision N of a workflow published to an environment; one current deployment per pair."""

    class Kind(models.TextChoices):
        DEPLOY = "deploy"
        ROLLBACK = "rollback"
        PROMOTION = "promotion"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="deployments")
    environment = models.ForeignKey("core.Environment", on_delete=models.CASCADE, related_name="deployments")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="deployments")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DEPLOY)
    version_tag = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    is_current = models.BooleanField(default=True)
    deployed_by = models.ForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")
    deployed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "environment"],
                condition=Q(is_current=True),
                name="core_deployment_one_current",
            )
        ]
        ordering = ["-deployed_at"]

    def __str__(self) -> str:
        return f"{self.workflow_id} r{self.revision_id} -> {self.environment_id}"


class FlowSecret(models.Model):
    """A trigger secret saved with a flow (a signing secret, an API key, a poller's password), encrypted.

    A revision holds only `{"secret_ref": "<id>"}` in the input's place. Rows are never changed: a new value
    is a new row, so every revision keeps the secret it was saved with (rollbacks deploy it again). Each
    row belongs to one workflow; a reference to another workflow's row is refused when a flow is saved.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="flow_secrets")
    node_id = models.CharField(max_length=120)
    name = models.CharField(max_length=128, help_text="the input's name, e.g. hmac_secret")
    ciphertext = models.TextField(help_text="Fernet token under the project's key set")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workflow", "node_id", "name"], name="core_flowsecret_input")]

    def __str__(self) -> str:
        return f"{self.workflow_id} {self.node_id}.{self.name}"
