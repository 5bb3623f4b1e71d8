from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from flomation.core.models.environments import Environment
from flomation.core.models.organisations import Organisation


class Connection(models.Model):
    """A typed, named credential (see flomation.lib.connections). `environment` None: every environment.

    `ciphertext` is a Fernet token (the project's key set) of the JSON object of ALL its fields; secret
    fields never leave through the API, and the rest are decrypted only to be shown to members.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="connections")
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="connections", null=True, blank=True
    )
    name = models.CharField(max_length=128)
    type = models.CharField(max_length=64)
    ciphertext = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "environment", "name"],
                condition=Q(environment__isnull=False),
                name="core_connection_unique_in_environment",
            ),
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=Q(environment__isnull=True),
                name="core_connection_unique_for_all",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
