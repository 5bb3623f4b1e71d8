"""Operators' view of identity's tables. Secrets (password hashes, TOTP seeds, link hashes) are not shown."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from flomation.identity.models import EmailLink, LoginFailure, RecoveryCode, Session, TOTPDevice, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "email",
        "display_name",
        "is_active",
        "is_staff",
        "email_verified_at",
        "last_login",
        "date_joined",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", ("email_verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "display_name", "id"]
    ordering = ["email"]
    readonly_fields = ["id", "last_login", "date_joined", "email_verified_at", "password_changed_at"]
    fieldsets = (
        (None, {"fields": ("id", "email", "password", "display_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined", "email_verified_at", "password_changed_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ["groups", "user_permissions"]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "method",
        "created_at",
        "last_seen_at",
        "expires_at",
        "revoked_at",
        "ip_address",
    ]
    list_filter = ["method", ("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["id", "user__email", "ip_address", "user_agent"]
    list_select_related = ["user"]
    readonly_fields = [field.name for field in Session._meta.fields]
    actions = ["revoke"]
    date_hierarchy = "created_at"

    @admin.action(description="End the selected sessions (their tokens stop at once)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} session(s) ended.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(EmailLink)
class EmailLinkAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "purpose", "created_at", "expires_at", "used_at", "code_attempts"]
    list_filter = ["purpose", ("used_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    exclude = ["secret_hash"]
    readonly_fields = ["user", "purpose", "created_at", "expires_at", "used_at", "code_attempts"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "confirmed_at"]
    list_filter = [("confirmed_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    exclude = ["secret_ciphertext", "last_used_step"]
    readonly_fields = ["user", "created_at", "confirmed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RecoveryCode)
class RecoveryCodeAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "created_at", "used_at"]
    list_filter = [("used_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    exclude = ["code_hash"]
    readonly_fields = ["user", "created_at", "used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["email", "ip_address", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["email", "ip_address"]
    readonly_fields = ["email", "ip_address", "created_at"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
