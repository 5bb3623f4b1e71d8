from __future__ import annotations

import uuid

from django.db import models

from flomation.core.models.organisations import Organisation


class Environment(models.Model):
    """development, staging and production are made with each organisation; `position` orders promotion."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="core_environment_unique")
        ]
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Variable(models.Model):
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=128)
    value = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["environment", "name"], name="core_variable_unique")]

    def __str__(self) -> str:
        return self.name


class Secret(models.Model):
    """Write-only through the API; `ciphertext` is a Fernet token under the project's key set."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=128)
    ciphertext = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["environment", "name"], name="core_secret_unique")]

    def __str__(self) -> str:
        return self.name
