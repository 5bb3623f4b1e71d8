from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from flomation.core.executions.channels import queue_channel
from flomation.core.models.organisations import Organisation


class Queue(models.Model):
    """Where executions wait for runners. A runner enrols into a queue with its registration code.

    A queue with no organisation is platform-wide shared: its runners take work from every organisation
    that accepts shared runners. A runner of a parent queue also takes its child queues' work.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="queues"
    )
    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    registration_code_ciphertext = models.TextField(help_text="Fernet token; the code is shown to admins")
    registration_code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="core_queue_unique_name"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(organisation__isnull=True), name="core_queue_unique_shared_name"
            ),
        ]

    @property
    def is_shared(self) -> bool:
        return self.organisation_id is None

    @property
    def notify_channel(self) -> str:
        return queue_channel(self.id)

    def __str__(self) -> str:
        return self.name


class Runner(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="runners")
    name = models.CharField(max_length=120)
    public_key = models.TextField(help_text="RSA public key (PEM) that verifies the runner's signatures")
    version = models.CharField(max_length=40, blank=True)
    executor_version = models.CharField(max_length=40, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    slots_total = models.PositiveIntegerField(default=1)
    slots_in_use = models.PositiveIntegerField(default=0)
    registered_at = models.DateTimeField(auto_now_add=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    last_claim_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class RegistrationFailure(models.Model):
    """A runner registration with a wrong code, counted per client address to stop guessing."""

    id = models.BigAutoField(primary_key=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ip_address", "created_at"], name="core_regfailure_address")]

    def __str__(self) -> str:
        return f"{self.ip_address} at {self.created_at:%Y-%m-%d %H:%M:%S}"
