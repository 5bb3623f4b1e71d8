from __future__ import annotations

from django.db import models

from flomation.core.models.runners import Runner


class RunnerNonce(models.Model):
    """A nonce a runner has signed with; the unique constraint refuses a replayed request.

    Rows are kept until `expires_at`, past the signature's timestamp window, so a request can never be
    replayed after its nonce is purged (its timestamp is stale by then).
    """

    id = models.BigAutoField(primary_key=True)
    runner = models.ForeignKey(Runner, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["runner", "nonce"], name="core_runner_nonce_unique")]

    def __str__(self) -> str:
        return f"{self.runner_id} {self.nonce}"
