"""Every core model in the operators' admin. Secret values, registration codes and token hashes are never
shown: secrets can be replaced through a write-only field, nothing more."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from flomation.core import models as m
from flomation.core.services.flow_sources.apply import flow_source_delete
from flomation.core.services.secrets import secret_set


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the platform (history, protocol state): operators look and delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["email", "display_name", "id", "created_at", "last_seen_at"]
    search_fields = ["email", "display_name", "id"]
    list_filter = ["created_at"]
    readonly_fields = ["id", "created_at", "last_seen_at"]


class MembershipInline(admin.TabularInline):
    model = m.Membership
    extra = 0
    autocomplete_fields = ["account"]


@admin.register(m.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "accept_shared_runners", "egress_allow", "created_at"]
    search_fields = ["name", "slug", "id"]
    list_filter = ["accept_shared_runners", "created_at"]
    readonly_fields = ["id", "created_at"]
    inlines = [MembershipInline]


@admin.register(m.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["account", "organisation", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["account__email", "organisation__name"]
    autocomplete_fields = ["account", "organisation"]


@admin.register(m.Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organisation", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role", "accepted_at", "expires_at"]
    search_fields = ["email", "organisation__name"]
    exclude = ["token_hash"]
    readonly_fields = ["accepted_at", "accepted_by", "invited_by"]


@admin.register(m.Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "permission_list"]
    search_fields = ["name", "organisation__name"]
    list_filter = ["organisation"]
    filter_horizontal = ["members"]

    @admin.display(description="permissions")
    def permission_list(self, group: m.Group) -> str:
        return ", ".join(group.permissions)


@admin.register(m.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "account",
        "organisation",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "prefix", "account__email", "organisation__name"]
    exclude = ["token_hash"]
    readonly_fields = ["prefix", "account", "organisation", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are created by their owner, who sees the value once


class VariableInline(admin.TabularInline):
    model = m.Variable
    extra = 0


@admin.register(m.Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "position", "created_at"]
    list_filter = ["name"]
    search_fields = ["name", "organisation__name"]
    inlines = [VariableInline]


@admin.register(m.Variable)
class VariableAdmin(admin.ModelAdmin):
    list_display = ["name", "environment", "updated_at"]
    search_fields = ["name", "environment__name", "environment__organisation__name"]
    list_filter = ["environment__name"]


class SecretForm(forms.ModelForm):
    new_value = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: leave empty to keep the current value.",
    )

    class Meta:
        model = m.Secret
        fields = ["environment", "name"]


@admin.register(m.Secret)
class SecretAdmin(admin.ModelAdmin):
    form = SecretForm
    list_display = ["name", "environment", "organisation", "updated_at"]
    search_fields = ["name", "environment__name", "environment__organisation__name"]
    list_filter = ["environment__name", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("ciphertext").select_related("environment__organisation")

    @admin.display(description="organisation")
    def organisation(self, secret: m.Secret) -> str:
        return str(secret.environment.organisation)

    def save_model(self, request: HttpRequest, obj: m.Secret, form: Any, change: bool) -> None:
        value = form.cleaned_data.get("new_value")
        if value:
            saved = secret_set(environment=obj.environment, name=obj.name, value=value)
            obj.pk = saved.pk
        elif not change:
            raise forms.ValidationError("Give the secret a value.")
        else:
            obj.save(update_fields=["name", "environment"])


@admin.register(m.FlowSecret)
class FlowSecretAdmin(ReadOnlyAdmin):
    """A trigger secret saved with a flow: which workflow, node and input, never the value."""

    list_display = ["name", "node_id", "workflow", "created_at"]
    search_fields = ["name", "node_id", "workflow__name", "workflow__organisation__name"]
    list_filter = ["name", "created_at"]
    fields = ["workflow", "node_id", "name", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("ciphertext").select_related("workflow")


@admin.register(m.FlowSource)
class FlowSourceAdmin(ReadOnlyAdmin):
    """Flows-as-code sources (the FLOWS_PATH folder, organisations' Git repositories) and their last sync.
    Deleting one hands its workflows back to the editor; the webhook secret is never shown."""

    list_display = ["organisation", "kind", "repository_url", "branch", "status", "commit_sha", "checked_at"]
    search_fields = ["organisation__name", "repository_url"]
    list_filter = ["kind", "status"]
    exclude = ["webhook_secret"]

    def delete_model(self, request: HttpRequest, obj: m.FlowSource) -> None:
        flow_source_delete(source=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for source in queryset:
            flow_source_delete(source=source)


@admin.register(m.Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "parent", "created_at"]
    search_fields = ["name", "organisation__name", "id"]
    list_filter = ["organisation", "created_at"]
    exclude = ["registration_code_ciphertext", "registration_code_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # queues get their registration code through the API or the editor


@admin.register(m.Runner)
class RunnerAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "queue",
        "enabled",
        "version",
        "executor_version",
        "slots_in_use",
        "slots_total",
        "last_contact_at",
    ]
    list_filter = ["enabled", "queue", "version"]
    search_fields = ["name", "id", "queue__name"]
    readonly_fields = ["public_key", "registered_at", "last_contact_at", "last_claim_at", "manifest"]
    list_editable = ["enabled"]


@admin.register(m.RegistrationFailure)
class RegistrationFailureAdmin(ReadOnlyAdmin):
    list_display = ["ip_address", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["ip_address"]
    date_hierarchy = "created_at"


class RevisionInline(admin.TabularInline):
    model = m.Revision
    extra = 0
    fields = ["number", "message", "author", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(m.Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "state", "latest_revision", "queue", "updated_at"]
    list_filter = ["state", "notify_on_failure", "notify_on_success"]
    search_fields = ["name", "description", "id", "organisation__name"]
    readonly_fields = ["latest_revision", "created_at", "updated_at"]
    inlines = [RevisionInline]


@admin.register(m.Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["workflow", "number", "message", "author", "created_at"]
    search_fields = ["workflow__name", "message"]
    list_filter = ["created_at"]


@admin.register(m.WorkflowFavourite)
class WorkflowFavouriteAdmin(admin.ModelAdmin):
    list_display = ["workflow", "account"]
    search_fields = ["workflow__name", "account__email"]
    list_filter = ["workflow__organisation"]


@admin.register(m.Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = [
        "workflow",
        "environment",
        "revision",
        "kind",
        "version_tag",
        "is_current",
        "deployed_by",
        "deployed_at",
    ]
    list_filter = ["kind", "is_current", "environment__name"]
    search_fields = ["workflow__name", "version_tag", "notes"]


class StepInline(admin.TabularInline):
    model = m.ExecutionStep
    extra = 0
    fields = ["sequence", "attempt", "node_id", "action", "status", "duration_ms", "error"]
    readonly_fields = fields
    can_delete = False


@admin.register(m.Execution)
class ExecutionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "workflow",
        "environment",
        "state",
        "trigger_type",
        "attempt",
        "runner",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", "trigger_type", "cancel_requested", "created_at"]
    search_fields = ["id", "workflow__name", "idempotency_key", "error"]
    readonly_fields = [f.name for f in m.Execution._meta.fields]
    inlines = [StepInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(m.ExecutionStep)
class ExecutionStepAdmin(ReadOnlyAdmin):
    list_display = [
        "execution",
        "sequence",
        "attempt",
        "node_id",
        "action",
        "status",
        "duration_ms",
        "created_at",
    ]
    list_filter = ["status", "action"]
    search_fields = ["execution__id", "node_id", "action", "error"]


if hasattr(m, "RunnerNonce"):

    @admin.register(m.RunnerNonce)
    class RunnerNonceAdmin(ReadOnlyAdmin):
        list_display = ["runner", "nonce", "expires_at"]
        search_fields = ["nonce", "runner__name"]
        list_filter = ["expires_at"]


@admin.register(m.Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """Which organisation holds which connection, for operators; never its fields (all are encrypted, and
    secret ones must not be seen). Changing the fields is done by the organisation through the API."""

    list_display = ["name", "type", "organisation", "environment", "updated_at"]
    search_fields = ["name", "type", "organisation__name"]
    list_filter = ["type", "updated_at"]
    fields = ["organisation", "environment", "name", "type", "created_at", "updated_at"]
    readonly_fields = ["organisation", "environment", "type", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("ciphertext").select_related("organisation", "environment")


@admin.register(m.AgentMemory)
class AgentMemoryAdmin(ReadOnlyAdmin):
    """Agents' conversations, written by executions: operators find and delete one (a person's request to
    forget), never edit it."""

    list_display = ["key", "organisation", "environment", "updated_at"]
    search_fields = ["key", "organisation__name"]
    list_filter = ["updated_at"]


@admin.register(m.AiUsageDay)
class AiUsageDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "organisation", "input_tokens", "output_tokens", "executions"]
    search_fields = ["organisation__name"]
    list_filter = ["day"]
