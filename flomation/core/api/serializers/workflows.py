from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from flomation.core.api.schema import NamedEnumField
from flomation.core.api.serializers.fields import column_integer
from flomation.core.api.serializers.organisations import AccountSerializer
from flomation.core.models import Deployment, Revision, Workflow, WorkflowState
from flomation.core.selectors.workflows import workflow_managed_in_files
from flomation.executor.secret_inputs import flow_redact


class ManagedInFilesSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="folder (FLOWS_PATH) or git")
    path = serializers.CharField(
        help_text="the flow file, relative to the folder or the repository's sub-path"
    )
    commit = serializers.CharField(help_text="the Git commit of the deployed revision; empty for a folder")


class WorkflowSerializer(serializers.ModelSerializer):
    is_favourite = serializers.SerializerMethodField()
    managed_in_files = serializers.SerializerMethodField(
        help_text="Set when the workflow is managed in files: saves are refused (409); change the file."
    )
    queue = serializers.UUIDField(source="queue_id", allow_null=True, read_only=True)
    state = NamedEnumField(component="WorkflowState", choices=WorkflowState.choices, read_only=True)

    class Meta:
        model = Workflow
        fields = [
            "id", "name", "description", "state", "queue", "latest_revision", "is_favourite",
            "notify_on_failure", "notify_on_success", "notify_recipients", "created_at", "updated_at",
            "managed_in_files",
        ]  # fmt: skip

    def get_is_favourite(self, workflow: Workflow) -> bool:
        return bool(getattr(workflow, "is_favourite", False))

    @extend_schema_field(ManagedInFilesSerializer(allow_null=True))
    def get_managed_in_files(self, workflow: Workflow) -> dict[str, str] | None:
        return workflow_managed_in_files(workflow=workflow)


class WorkflowCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    flow = serializers.JSONField(required=False, help_text="React Flow JSON: {nodes, edges}")
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    queue = serializers.UUIDField(required=False, allow_null=True)


class WorkflowUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    state = serializers.CharField(required=False, help_text="active, paused, archived, or draft (restore)")
    queue = serializers.UUIDField(required=False, allow_null=True)
    notify_on_failure = serializers.BooleanField(required=False)
    notify_on_success = serializers.BooleanField(required=False)
    notify_recipients = serializers.ListField(child=serializers.EmailField(), required=False, max_length=50)


class RevisionSerializer(serializers.ModelSerializer):
    author = AccountSerializer(read_only=True)

    class Meta:
        model = Revision
        fields = ["number", "message", "author", "created_at", "updated_at", "edits", "sealed", "commit_sha"]
        extra_kwargs = {
            "edits": {
                "help_text": "How often autosaves updated this revision in place; send it back as "
                "base_edits so a save from an out-of-date copy is refused."
            },
            "sealed": {
                "help_text": "Closed to coalescing (named, deployed, or its author left the editor): "
                "the next save makes a new revision."
            },
        }


class RevisionDetailSerializer(RevisionSerializer):
    flow = serializers.SerializerMethodField(
        help_text="React Flow JSON. A trigger's secret inputs show only whether they are set (`set`) and "
        'their reference ({"secret_ref": id} or ${secrets.NAME}), never a value.'
    )

    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "flow"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_flow(self, revision: Revision) -> Any:
        return flow_redact(revision.flow)


class RevisionCreateSerializer(serializers.Serializer):
    flow = serializers.JSONField(help_text="React Flow JSON: {nodes, edges}")
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Names the save: a named save always makes a new revision. Without it, a save by the same "
        "author shortly after their last unnamed one updates that revision in place.",
    )
    base_revision = serializers.IntegerField(
        required=False, min_value=0, help_text="The revision number this flow was edited from."
    )
    base_edits = serializers.IntegerField(
        required=False, min_value=0, help_text="That revision's `edits` when it was read."
    )
    seal = serializers.BooleanField(
        required=False, default=False, help_text="Close the resulting revision to coalescing."
    )


class DuplicateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)


class ImportSerializer(serializers.Serializer):
    document = serializers.JSONField(
        help_text="an export of this API, or a flow {nodes, edges} from Flomation"
    )
    name = serializers.CharField(max_length=200, required=False)


class ExportSerializer(serializers.Serializer):
    format = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    revision = serializers.IntegerField(allow_null=True)
    environment = serializers.CharField(
        required=False, help_text="where it is deployed (a flow file's `environment`); absent if nowhere"
    )
    flow = serializers.JSONField(help_text="the stored flow; trigger secrets are left out (unset)")
    secrets_to_set = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="the trigger secret inputs left out: {node_id, input}; enter them again after importing",
    )


class FavouriteSerializer(serializers.Serializer):
    is_favourite = serializers.BooleanField()


class DeploymentSerializer(serializers.ModelSerializer):
    environment = serializers.SerializerMethodField()
    revision = serializers.IntegerField(source="revision.number", read_only=True)
    deployed_by = AccountSerializer(read_only=True)
    workflow = serializers.UUIDField(source="workflow_id", read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id", "workflow", "environment", "revision", "kind", "version_tag", "notes", "is_current",
            "deployed_by", "deployed_at",
        ]  # fmt: skip

    def get_environment(self, deployment: Deployment) -> dict[str, Any]:
        return {"id": str(deployment.environment_id), "name": deployment.environment.name}


class DeploySerializer(serializers.Serializer):
    environment = serializers.CharField(help_text="environment id or name")
    revision = column_integer(
        Revision, "number", min_value=1, required=False, help_text="default: the latest revision"
    )
    version_tag = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    activate = serializers.BooleanField(default=True, help_text="make a draft workflow active")


class CiDeploySerializer(DeploySerializer):
    workflow = serializers.UUIDField()
    organisation = serializers.UUIDField(required=False, help_text="needed only without an API token")


class RollbackSerializer(serializers.Serializer):
    environment = serializers.CharField(help_text="environment id or name")
    revision = column_integer(
        Revision, "number", min_value=1, required=False, help_text="default: the previous one"
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class PromoteSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="environment id or name to promote from")
    target = serializers.CharField(required=False, help_text="default: the next environment")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
