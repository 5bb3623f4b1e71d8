"""Launch's tables: triggers (one per deployed trigger node and environment), their leases, the requests
they accepted and the schedule fire times they consumed.

Executions are referred to by id only (no foreign key): when launch runs apart from the API it creates
executions through the API and its own database holds no execution rows.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from flomation.core.models import Deployment, Environment, Organisation, Workflow
from flomation.lib import crypto


def new_public_id() -> str:
    return crypto.random_token("", 16)


class TriggerKind(models.TextChoices):
    MANUAL = "manual"
    WEBHOOK = "webhook"
    WEB = "web"
    FORM = "form"
    QR = "qr"
    IMAGE = "image"
    SCHEDULE = "schedule"
    GIT_POLL = "git_poll"
    DATABASE_ROW = "database_row"
    EMAIL = "email"
    QUEUE = "queue"
    MQTT = "mqtt"
    S3 = "s3"
    SLACK = "slack"
    TELEGRAM = "telegram"
    TEAMS = "teams"
    OTHER = "other"

    @classmethod
    def timed(cls) -> frozenset[str]:
        """Kinds the launch loop runs on a clock (under a lease) rather than on a request."""
        return frozenset(
            {cls.SCHEDULE, cls.GIT_POLL, cls.DATABASE_ROW, cls.EMAIL, cls.QUEUE, cls.MQTT, cls.S3}
        )


class Trigger(models.Model):
    """A trigger node of a workflow deployed to an environment.

    The row (and its `public_id`, the URL users paste into other systems) is keyed by workflow,
    environment and node id, so it survives new revisions and rollbacks. `active` says whether the
    current deployment still has the node; `enabled` is the user's pause switch.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="launch_triggers")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="launch_triggers")
    deployment = models.ForeignKey(Deployment, null=True, on_delete=models.SET_NULL, related_name="+")
    node_id = models.CharField(max_length=120)
    action = models.CharField(max_length=120, help_text="the node's action id, e.g. trigger/webhook")
    kind = models.CharField(max_length=16, choices=TriggerKind.choices)
    config = models.JSONField(default=dict, blank=True, help_text="the node's inputs, secrets removed")
    secrets_ciphertext = models.TextField(blank=True, help_text="Fernet token of the secret inputs (JSON)")
    run_token_hash = models.CharField(max_length=64, blank=True)
    run_token_ciphertext = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    # Timed triggers: when the loop should look at it next, its cursor and what went wrong last.
    next_run_at = models.DateTimeField(null=True, blank=True)
    cursor = models.JSONField(null=True, blank=True)
    cursor_key = models.CharField(max_length=64, blank=True, help_text="what the cursor is a position in")
    cursor_version = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "environment", "node_id"], name="launch_trigger_node")
        ]
        indexes = [
            models.Index(
                fields=["next_run_at"], condition=Q(active=True, enabled=True), name="launch_trigger_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.node_id} ({self.public_id})"


class TriggerLease(models.Model):
    """Which launch process owns a timed trigger, until when. Taken over once `expires_at` has passed."""

    trigger = models.OneToOneField(Trigger, primary_key=True, on_delete=models.CASCADE, related_name="lease")
    owner = models.CharField(max_length=200)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.trigger_id} by {self.owner} until {self.expires_at}"


class Invocation(models.Model):
    """A request (or poll result) a trigger accepted, stored in the transaction that created its execution."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="invocations")
    execution_id = models.UUIDField(null=True, blank=True, help_text="null until the API has accepted it")
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    delivery_id = models.CharField(max_length=200, null=True, blank=True, help_text="signed webhooks' id")
    signature_hash = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text="SHA-256 of a Flomation-format signature: one signature is accepted once",
    )
    method = models.CharField(max_length=10, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # Launch apart from the API: why the API has not taken it yet (kept pending, submitted again).
    error = models.TextField(blank=True, default="", db_default="")
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="the last try to hand it to the API")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="launch_invocation_idempotency",
            ),
            models.UniqueConstraint(
                fields=["trigger", "delivery_id"],
                condition=Q(delivery_id__isnull=False),
                name="launch_invocation_delivery",
            ),
            models.UniqueConstraint(
                fields=["trigger", "signature_hash"],
                condition=Q(signature_hash__isnull=False),
                name="launch_invocation_signature",
            ),
        ]
        indexes = [
            models.Index(fields=["trigger", "-received_at"], name="launch_invocation_recent"),
            models.Index(
                fields=["received_at"], condition=Q(execution_id__isnull=True), name="launch_inv_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} at {self.received_at}"


class ScheduleFire(models.Model):
    """One fire time of a schedule; the unique constraint makes each (schedule, fire time) run once."""

    id = models.BigAutoField(primary_key=True)
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="fires")
    fire_at = models.DateTimeField()
    fired_at = models.DateTimeField()
    owner = models.CharField(max_length=200)
    execution_id = models.UUIDField(null=True, blank=True)
    missed = models.PositiveIntegerField(default=0, help_text="earlier fire times folded into this one")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trigger", "fire_at"], name="launch_schedule_fire_once")
        ]
        ordering = ["-fire_at"]

    def __str__(self) -> str:
        return f"{self.trigger_id} at {self.fire_at}"


class TestListen(models.Model):
    """An author listening for one test request to a trigger node's test URL (`/launch/test/...`).

    Short-lived (LAUNCH_TEST_LISTEN_SECONDS); it belongs to the account that started it, the only one that
    reads what it captured. A test request starts nothing: it is stored here for the editor to show.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=200)
    account_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    captured = models.JSONField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workflow", "node_id"]), models.Index(fields=["expires_at"])]


class ApprovalPrompt(models.Model):
    """A human-approval question (humanintheloop/await) asked in the chat the execution came from.

    Created when an execution started by a Slack or Telegram trigger suspends on an approval; the launch
    loop posts it with one button per option; the button's answer (Slack interactivity, Telegram callback
    query) resumes the execution once. `token` names the prompt in the buttons (Telegram allows 64 bytes).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="approval_prompts")
    execution_id = models.UUIDField()
    node_id = models.CharField(max_length=120)
    channel = models.CharField(max_length=16, help_text="slack or telegram")
    target = models.CharField(max_length=200, help_text="the Slack channel or Telegram chat id")
    thread = models.CharField(max_length=64, blank=True, help_text="Slack: the thread to answer in")
    message = models.TextField()
    options = models.JSONField(default=list, help_text="[{label, value}], in button order")
    created_at = models.DateTimeField(auto_now_add=True)
    next_try_at = models.DateTimeField(null=True, blank=True, help_text="null once sent")
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=200, blank=True)
    answered_option = models.CharField(max_length=200, blank=True)
    # The posted message (Slack ts, Telegram message_id), and when it is due to be rewritten with the
    # answer and without its buttons.
    message_ref = models.CharField(max_length=64, blank=True)
    update_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution_id", "node_id"], name="launch_approval_once")
        ]
        indexes = [
            models.Index(
                fields=["next_try_at"], condition=Q(next_try_at__isnull=False), name="launch_approval_due"
            ),
            models.Index(
                fields=["update_at"], condition=Q(update_at__isnull=False), name="launch_approval_update_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} approval for {self.execution_id}/{self.node_id}"
