from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from flomation.core.models.connections import Connection
from flomation.core.models.organisations import Organisation


class FlowSource(models.Model):
    """Where an organisation's flows-as-code come from: the operator's folder (FLOWS_PATH) or a Git
    repository. Workflows it manages point back at it and refuse saves from the editor and the API.

    The row is also the sync's lease (`lease_token`/`lease_expires_at`, claimed by compare-and-swap) and
    its outcome (`status`, `errors` with file, line and node, the applied `content_hash` and `commit_sha`).
    """

    class Kind(models.TextChoices):
        FOLDER = "folder"
        GIT = "git"

    class Status(models.TextChoices):
        PENDING = "pending"
        SYNCED = "synced"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="flow_sources")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Git only: where to read. All three are checked (safe_args) before git ever sees them.
    repository_url = models.CharField(max_length=2048, blank=True)
    branch = models.CharField(max_length=255, default="main")
    sub_path = models.CharField(max_length=500, blank=True)
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="flow_sources"
    )
    interval_seconds = models.PositiveIntegerField(default=300)
    webhook_secret = models.TextField(blank=True, help_text="Fernet token of the push webhook's secret")
    default_environment = models.CharField(max_length=64, default="production")
    # Outcome of the last sync.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    errors = models.JSONField(default=list, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(default=timezone.now)
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind"], name="core_flowsource_one_per_kind")
        ]
        indexes = [models.Index(fields=["kind", "next_check_at"], name="core_flowsource_due")]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.kind}"
