from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from flomation.core.models.environments import Environment
from flomation.core.models.organisations import Account, Organisation
from flomation.core.models.runners import Queue, Runner
from flomation.core.models.workflows import Deployment, Revision, Workflow


class ExecutionState(models.TextChoices):
    PENDING = "pending"
    CLAIMED = "claimed"
    RUNNING = "running"
    SUSPENDED = "suspended"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @classmethod
    def finished(cls) -> frozenset[str]:
        return frozenset({cls.SUCCEEDED, cls.FAILED, cls.CANCELLED, cls.TIMED_OUT})


class Execution(models.Model):
    """One run of a workflow revision. PostgreSQL is the queue: runners claim pending rows with SKIP LOCKED."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="executions")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="executions")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="executions")
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="executions")
    state = models.CharField(max_length=16, choices=ExecutionState.choices, default=ExecutionState.PENDING)
    priority = models.SmallIntegerField(default=0, help_text="lower runs first")
    trigger_type = models.CharField(max_length=32, default="manual")
    trigger_data = models.JSONField(default=dict, blank=True)
    entry_node = models.CharField(max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    created_by = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    # Claim and lease.
    runner = models.ForeignKey(
        Runner, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    attempt = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Suspension (wait, pause, human approval).
    checkpoint = models.JSONField(null=True, blank=True)
    resume_at = models.DateTimeField(null=True, blank=True)
    resume_data = models.JSONField(null=True, blank=True)
    # The last checkpoint the runner reported while running (after each finished node): a new attempt
    # after a lost runner goes on from it instead of starting again. Cleared when the attempt ends.
    progress = models.JSONField(null=True, blank=True)
    # Outcome.
    outputs = models.JSONField(default=dict, blank=True)
    node_results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="when the outcome email went out")
    input_tokens = models.PositiveIntegerField(default=0, help_text="model tokens sent, all attempts")
    output_tokens = models.PositiveIntegerField(default=0, help_text="model tokens received, all attempts")

    class Meta:
        indexes = [
            models.Index(
                fields=["queue", "priority", "created_at"],
                condition=Q(state="pending"),
                name="core_exec_pending",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(state__in=["claimed", "running"]),
                name="core_exec_leased",
            ),
            models.Index(fields=["resume_at"], condition=Q(state="suspended"), name="core_exec_suspended"),
            models.Index(fields=["organisation", "-created_at"], name="core_exec_org_recent"),
            models.Index(fields=["workflow", "-created_at"], name="core_exec_workflow_recent"),
            models.Index(
                fields=["finished_at"],
                condition=Q(state__in=["succeeded", "failed", "cancelled", "timed_out"]),
                name="core_exec_finished",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="core_exec_idempotency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.state})"


class ExecutionStep(models.Model):
    """One node transition reported by the executor; `sequence` orders the live event stream."""

    id = models.BigAutoField(primary_key=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveIntegerField()
    attempt = models.PositiveSmallIntegerField(default=1)
    node_id = models.CharField(max_length=120)
    action = models.CharField(max_length=120, blank=True)
    label = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16)
    inputs = models.JSONField(null=True, blank=True)
    outputs = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    iteration = models.PositiveIntegerField(null=True, blank=True)
    # The node had started in an earlier attempt that never finished it (its runner was lost): this is
    # it running again, after the nodes that had finished were restored rather than re-run.
    retry = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "attempt", "sequence"], name="core_step_unique_sequence"
            )
        ]
        ordering = ["attempt", "sequence"]

    def __str__(self) -> str:
        return f"{self.execution_id} {self.node_id} {self.status}"
