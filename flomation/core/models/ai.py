"""What the platform keeps for AI nodes: agents' conversation memory and model token usage per day."""

from __future__ import annotations

from django.db import models

from flomation.core.models.environments import Environment
from flomation.core.models.organisations import Organisation


class AgentMemory(models.Model):
    """An agent's conversation under a session key the flow chooses, per organisation and environment
    (`environment` None: executions that run without one). `messages` are the kept turns in the
    executor's neutral shape; `summary` the model-written summary of older turns (summary mode)."""

    id = models.BigAutoField(primary_key=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="agent_memories")
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="agent_memories", null=True, blank=True
    )
    key = models.CharField(max_length=200)
    messages = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "environment", "key"],
                name="core_agent_memory_unique_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return self.key


class AiUsageDay(models.Model):
    """Model tokens an organisation's executions used on one (UTC) day, summed as results arrive."""

    id = models.BigAutoField(primary_key=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="ai_usage_days")
    day = models.DateField()
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    executions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "day"], name="core_ai_usage_unique_day")
        ]
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day}"
