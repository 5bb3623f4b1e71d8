from __future__ import annotations

from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class AuditEntryImmutable(Exception):
    """An audit entry is never changed or deleted one by one; only retention prunes whole prefixes."""


class AuditEntry(models.Model):
    """One recorded change. Entries of an organisation (or of the platform: organisation None) form a hash
    chain by `seq`: each `hash` covers the entry's content and the previous entry's hash.

    `organisation_id` is a plain column, not a foreign key: deleting an organisation keeps its history.
    """

    id = models.BigAutoField(primary_key=True)
    organisation_id = models.UUIDField(null=True, blank=True, db_index=False)
    seq = models.BigIntegerField(help_text="position in the organisation's chain, from 1")
    created_at = models.DateTimeField()
    actor_type = models.CharField(max_length=16, help_text="user, token, runner or system")
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=300, blank=True)
    actor_account = models.UUIDField(null=True, blank=True, help_text="the person behind a user or token")
    action = models.CharField(max_length=64, help_text="<entity>.<verb>")
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    source_ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name_plural = "audit entries"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation_id", "seq"], name="core_audit_chain_seq", nulls_distinct=False
            )
        ]
        indexes = [
            models.Index(fields=["organisation_id", "-id"], name="core_audit_org_newest"),
            models.Index(fields=["created_at"], name="core_audit_created"),
            GinIndex(fields=["target_ids"], name="core_audit_targets"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditEntryImmutable("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditEntryImmutable("Audit entries are deleted only by retention, a whole prefix at a time.")

    def __str__(self) -> str:
        return (
            f"{self.action} by {self.actor_label or self.actor_type} at {self.created_at:%Y-%m-%d %H:%M:%S}"
        )
