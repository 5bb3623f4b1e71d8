from __future__ import annotations

from rest_framework import serializers

from flomation.core.models import Account, ApiToken, Group, Invitation, Membership, Organisation
from flomation.core.permissions import CATALOGUE


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "email", "display_name"]


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "slug", "accept_shared_runners", "created_at"]
        read_only_fields = ["id", "slug", "created_at"]


class OrganisationCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class OrganisationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    accept_shared_runners = serializers.BooleanField(required=False)


class MembershipSerializer(serializers.ModelSerializer):
    account = AccountSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["account", "role", "created_at"]


class MyMembershipSerializer(serializers.ModelSerializer):
    organisation = OrganisationSerializer(read_only=True)
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["organisation", "role", "permissions"]

    def get_permissions(self, membership: Membership) -> list[str]:
        from flomation.core.permissions import membership_permissions

        return sorted(membership_permissions(membership=membership))


class MeSerializer(serializers.Serializer):
    account = AccountSerializer()
    memberships = MyMembershipSerializer(many=True)


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.CharField()


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "created_at", "expires_at"]


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.CharField(default="member")


class InvitationCreatedSerializer(InvitationSerializer):
    token = serializers.CharField(help_text="shown once; also emailed to the invitee")

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token"]


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField()


class GroupSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = ["id", "name", "permissions", "members"]

    def get_members(self, group: Group) -> list[str]:
        return sorted(str(account.id) for account in group.members.all())


class GroupWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    permissions = serializers.ListField(child=serializers.CharField(), default=list)
    members = serializers.ListField(child=serializers.UUIDField(), default=list)


class PermissionSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()

    @staticmethod
    def catalogue() -> list[dict[str, str]]:
        return [{"name": name, "description": text} for name, text in CATALOGUE.items()]


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    lifetime_days = serializers.IntegerField(default=90, min_value=1, max_value=366)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="the token itself, shown only in this response")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
