from __future__ import annotations

from rest_framework import serializers

from flomation.core.models import Queue, Runner
from flomation.core.selectors.queues import runner_state


class QueueSerializer(serializers.ModelSerializer):
    parent = serializers.UUIDField(source="parent_id", allow_null=True, read_only=True)

    class Meta:
        model = Queue
        fields = ["id", "name", "parent", "created_at"]


class QueueWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    parent = serializers.UUIDField(required=False, allow_null=True)


class RegistrationCodeSerializer(serializers.Serializer):
    registration_code = serializers.CharField()


class QueueCreatedSerializer(QueueSerializer):
    registration_code = serializers.CharField()

    class Meta(QueueSerializer.Meta):
        fields = [*QueueSerializer.Meta.fields, "registration_code"]


class RunnerSerializer(serializers.ModelSerializer):
    queue = serializers.UUIDField(source="queue_id", read_only=True)
    status = serializers.SerializerMethodField(help_text="online, offline, never_seen or disabled")

    class Meta:
        model = Runner
        fields = [
            "id", "name", "queue", "status", "enabled", "version", "executor_version", "slots_total",
            "slots_in_use", "registered_at", "last_contact_at", "last_claim_at",
        ]  # fmt: skip

    def get_status(self, runner: Runner) -> str:
        return runner_state(runner=runner)


class RunnerUpdateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
