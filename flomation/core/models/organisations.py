from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower


class Account(models.Model):
    """Core's record of an identity user, created on the user's first authenticated request."""

    id = models.UUIDField(primary_key=True, help_text="identity's user id (the token's sub)")
    email = models.EmailField()
    display_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(Lower("email"), name="core_account_email_lower")]

    def __str__(self) -> str:
        return self.email


def validate_egress_ranges(value: list[str]) -> None:
    from flomation.lib.egress import parse_networks

    try:
        parse_networks(value, where="egress allowed ranges")
    except ValueError as error:
        raise ValidationError(str(error)) from None


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    accept_shared_runners = models.BooleanField(
        default=True, help_text="Executions may run on the platform's shared runners."
    )
    # Set by operators in the admin only (no API writes it): private ranges this organisation's flows on
    # the shared runners and its pollers may reach, on top of the platform-wide FLOMATION_EGRESS_ALLOW.
    egress_allow = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        validators=[validate_egress_ranges],
        verbose_name="egress allowed ranges",
        help_text=(
            "Address ranges (CIDR, comma-separated, e.g. 10.20.0.0/16) this organisation's flows on the "
            "shared runners and its pollers may reach besides public addresses. Loopback, private and "
            "link-local ranges are refused unless listed here or platform-wide."
        ),
    )
    created_by = models.ForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Membership(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "account"], name="core_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.organisation_id} ({self.role})"


class Invitation(models.Model):
    """An invitation by email: single use (accepted_at) and expiring; only the token's hash is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.email} to {self.organisation_id}"


class Group(models.Model):
    """Grants permissions from the fixed catalogue (flomation.core.permissions) to its members."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=120)
    permissions = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    members = models.ManyToManyField(Account, blank=True, related_name="permission_groups")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="core_group_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token for scripts and CI: scoped to one organisation, shown once, stored hashed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_tokens")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, help_text="the first characters, to recognise a token")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
