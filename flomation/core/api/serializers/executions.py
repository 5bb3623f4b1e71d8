from __future__ import annotations

from typing import Any

from rest_framework import serializers

from flomation.core.api.schema import NamedEnumField
from flomation.core.models import Execution, ExecutionState, ExecutionStep


class ExecutionSerializer(serializers.ModelSerializer):
    workflow = serializers.SerializerMethodField()
    environment = serializers.SerializerMethodField()
    revision = serializers.IntegerField(source="revision.number", read_only=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)
    rerun_of = serializers.UUIDField(source="rerun_of_id", read_only=True, allow_null=True)
    runner = serializers.UUIDField(source="runner_id", read_only=True, allow_null=True)
    duration_ms = serializers.SerializerMethodField()
    state = NamedEnumField(component="ExecutionState", choices=ExecutionState.choices, read_only=True)

    class Meta:
        model = Execution
        fields = [
            "id", "workflow", "environment", "revision", "state", "trigger_type", "attempt", "max_attempts",
            "cancel_requested", "created_by", "rerun_of", "runner", "error", "created_at", "claimed_at",
            "started_at", "finished_at", "resume_at", "duration_ms", "input_tokens", "output_tokens",
        ]  # fmt: skip

    def get_workflow(self, execution: Execution) -> dict[str, Any]:
        return {"id": str(execution.workflow_id), "name": execution.workflow.name}

    def get_environment(self, execution: Execution) -> dict[str, Any] | None:
        if execution.environment is None:
            return None
        return {"id": str(execution.environment_id), "name": execution.environment.name}

    def get_duration_ms(self, execution: Execution) -> int | None:
        if execution.started_at and execution.finished_at:
            return int((execution.finished_at - execution.started_at).total_seconds() * 1000)
        return None


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExecutionStep
        fields = [
            "id", "sequence", "attempt", "node_id", "action", "label", "status", "inputs", "outputs", "error",
            "duration_ms", "iteration", "retry", "created_at",
        ]  # fmt: skip


class ExecutionDetailSerializer(ExecutionSerializer):
    steps = serializers.SerializerMethodField()

    class Meta(ExecutionSerializer.Meta):
        fields = [*ExecutionSerializer.Meta.fields, "trigger_data", "outputs", "steps"]

    def get_steps(self, execution: Execution) -> list[dict[str, Any]]:
        if "steps" in self.context:  # given by the caller (a new execution has none)
            return self.context["steps"]
        return StepSerializer(execution.steps.order_by("id"), many=True).data  # type: ignore[return-value]


class RunNowSerializer(serializers.Serializer):
    environment = serializers.CharField(
        required=False, allow_null=True, help_text="id or name; none: test run"
    )
    inputs = serializers.JSONField(required=False, default=dict)
    node_id = serializers.CharField(required=False, help_text="which manual trigger, when there are several")


class ResumeSerializer(serializers.Serializer):
    resume_data = serializers.JSONField(required=False, default=dict)
