"""Launch's records for operators. Trigger secrets and run tokens are never shown (only ciphertext exists)."""

from __future__ import annotations

from django.contrib import admin

from flomation.launch.models import (
    ApprovalPrompt,
    Invocation,
    ScheduleFire,
    TestListen,
    Trigger,
    TriggerLease,
)

_HIDDEN = ("secrets_ciphertext", "run_token_hash", "run_token_ciphertext")


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "kind",
        "workflow",
        "environment",
        "enabled",
        "active",
        "next_run_at",
        "last_polled_at",
    )
    list_filter = ("kind", "enabled", "active", "environment__name")
    search_fields = ("public_id", "node_id", "workflow__name", "organisation__name")
    list_select_related = ("workflow", "environment")
    exclude = _HIDDEN
    readonly_fields = ("public_id", "organisation", "workflow", "environment", "deployment", "node_id", "action",
                       "kind", "config", "cursor", "cursor_key", "cursor_version", "last_polled_at",
                       "last_fired_at", "last_error", "created_at", "updated_at")  # fmt: skip


@admin.register(TriggerLease)
class TriggerLeaseAdmin(admin.ModelAdmin):
    list_display = ("trigger", "owner", "acquired_at", "expires_at")
    list_filter = ("owner",)
    search_fields = ("owner", "trigger__public_id")
    list_select_related = ("trigger",)


@admin.register(Invocation)
class InvocationAdmin(admin.ModelAdmin):
    list_display = ("id", "trigger", "method", "execution_id", "received_at", "submitted_at", "short_error")
    list_filter = ("method", "trigger__kind")
    search_fields = ("id", "execution_id", "idempotency_key", "delivery_id", "trigger__public_id")
    list_select_related = ("trigger",)
    date_hierarchy = "received_at"

    @admin.display(description="error")
    def short_error(self, invocation: Invocation) -> str:
        return invocation.error[:80]


@admin.register(ScheduleFire)
class ScheduleFireAdmin(admin.ModelAdmin):
    list_display = ("trigger", "fire_at", "fired_at", "owner", "execution_id", "missed")
    list_filter = ("missed",)
    search_fields = ("trigger__public_id", "execution_id", "owner")
    list_select_related = ("trigger",)
    date_hierarchy = "fire_at"


@admin.register(TestListen)
class TestListenAdmin(admin.ModelAdmin):
    """An author's "Listen for test event" sessions. The captured request is left out: it is the author's."""

    list_display = ("workflow", "node_id", "account_id", "created_at", "expires_at", "captured_at")
    list_filter = ("expires_at",)
    search_fields = ("node_id", "workflow__name", "organisation__name")
    list_select_related = ("workflow",)
    exclude = ("captured",)
    readonly_fields = ("organisation", "workflow", "node_id", "account_id", "expires_at", "captured_at")


@admin.register(ApprovalPrompt)
class ApprovalPromptAdmin(admin.ModelAdmin):
    """Approval questions asked in chat: where, whether they went out (and why not) and who answered."""

    list_display = ("execution_id", "channel", "target", "sent_at", "attempts", "answered_at", "answered_by")
    list_filter = ("channel",)
    search_fields = ("execution_id", "token", "target", "answered_by", "trigger__public_id")
    list_select_related = ("trigger",)
    readonly_fields = ("token", "trigger", "execution_id", "node_id", "channel", "target", "thread", "message",
                       "options", "sent_at", "send_error", "answered_at", "answered_by", "answered_option",
                       "message_ref")  # fmt: skip
