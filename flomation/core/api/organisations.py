"""The caller, organisations, members, invitations, groups and personal API tokens."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import ApiView, OrganisationView, validated
from flomation.core.api.serializers import organisations as s
from flomation.core.selectors import organisations as sel
from flomation.core.selectors import tokens as token_selectors
from flomation.core.services import members as svc
from flomation.core.services.organisations import organisation_create
from flomation.core.services.tokens import api_token_create, api_token_revoke

TAG = ["organisations"]


class MeView(ApiView):
    @extend_schema(tags=TAG, responses=s.MeSerializer, summary="The caller and their organisations")
    def get(self, request: Request) -> Response:
        memberships = sel.account_memberships(
            account=self.account,
            organisation_id=self.api_token.organisation_id if self.api_token is not None else None,
        )
        return Response(s.MeSerializer({"account": self.account, "memberships": memberships}).data)


class OrganisationListView(ApiView):
    @extend_schema(tags=TAG, responses=s.OrganisationSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = sel.organisation_list(account=self.account)
        if self.api_token is not None:
            rows = rows.filter(id=self.api_token.organisation_id)
        return Response(s.OrganisationSerializer(rows, many=True).data)

    @extend_schema(
        tags=TAG, request=s.OrganisationCreateSerializer, responses={201: s.OrganisationSerializer}
    )
    def post(self, request: Request) -> Response:
        if self.api_token is not None:
            raise exceptions.PermissionDenied("An API token cannot create organisations.")
        data = validated(s.OrganisationCreateSerializer, request.data)
        organisation = organisation_create(name=data["name"], owner=self.account)
        return Response(s.OrganisationSerializer(organisation).data, status=status.HTTP_201_CREATED)


class OrganisationDetailView(OrganisationView):
    permissions = {"GET": "organisation.view", "PATCH": "organisation.manage"}

    @extend_schema(tags=TAG, responses=s.OrganisationSerializer)
    def get(self, request: Request, org_id: str) -> Response:
        return Response(s.OrganisationSerializer(self.organisation).data)

    @extend_schema(tags=TAG, request=s.OrganisationUpdateSerializer, responses=s.OrganisationSerializer)
    def patch(self, request: Request, org_id: str) -> Response:
        data = validated(s.OrganisationUpdateSerializer, request.data)
        organisation = svc.organisation_update(organisation=self.organisation, **data)
        return Response(s.OrganisationSerializer(organisation).data)


class PermissionCatalogueView(OrganisationView):
    permissions = {"GET": "organisation.view"}

    @extend_schema(tags=TAG, responses=s.PermissionSerializer(many=True), summary="The permission catalogue")
    def get(self, request: Request, org_id: str) -> Response:
        return Response(s.PermissionSerializer.catalogue())


class MemberListView(OrganisationView):
    permissions = {"GET": "organisation.view"}

    @extend_schema(tags=TAG, responses=s.MembershipSerializer(many=True))
    def get(self, request: Request, org_id: str) -> Response:
        return self.paginate(sel.membership_list(organisation=self.organisation), s.MembershipSerializer)


class MemberDetailView(OrganisationView):
    # Leaving (deleting oneself) needs no more than membership; see delete().
    permissions = {"PATCH": "organisation.manage", "DELETE": "organisation.view"}

    @extend_schema(tags=TAG, request=s.RoleChangeSerializer, responses=s.MembershipSerializer)
    def patch(self, request: Request, org_id: str, account_id: str) -> Response:
        data = validated(s.RoleChangeSerializer, request.data)
        membership = sel.membership_get(organisation=self.organisation, account_id=account_id)
        membership = svc.membership_set_role(membership=membership, role=data["role"], acting=self.membership)
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(tags=TAG, responses={204: None}, summary="Remove a member (or leave)")
    def delete(self, request: Request, org_id: str, account_id: str) -> Response:
        membership = sel.membership_get(organisation=self.organisation, account_id=account_id)
        if membership.account_id != self.account.id:
            from flomation.core.permissions import membership_require

            membership_require(
                account_or_user=self.account,
                organisation_id=self.organisation.id,
                permission="organisation.manage",
                api_token=self.api_token,
            )
        svc.membership_remove(membership=membership, acting=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(OrganisationView):
    permissions = {"GET": "organisation.manage", "POST": "organisation.manage"}

    @extend_schema(tags=TAG, responses=s.InvitationSerializer(many=True))
    def get(self, request: Request, org_id: str) -> Response:
        return self.paginate(sel.invitation_list(organisation=self.organisation), s.InvitationSerializer)

    @extend_schema(
        tags=TAG, request=s.InvitationCreateSerializer, responses={201: s.InvitationCreatedSerializer}
    )
    def post(self, request: Request, org_id: str) -> Response:
        data = validated(s.InvitationCreateSerializer, request.data)
        invitation, token = svc.invitation_create(
            organisation=self.organisation,
            email=data["email"],
            role=data["role"],
            invited_by=self.account,
            acting=self.membership,
        )
        body = s.InvitationSerializer(invitation).data | {"token": token}
        return Response(body, status=status.HTTP_201_CREATED)


class InvitationDetailView(OrganisationView):
    permissions = {"DELETE": "organisation.manage"}

    @extend_schema(tags=TAG, responses={204: None})
    def delete(self, request: Request, org_id: str, invitation_id: str) -> Response:
        svc.invitation_revoke(
            invitation=sel.invitation_get(organisation=self.organisation, invitation_id=invitation_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(ApiView):
    @extend_schema(tags=TAG, request=s.InvitationAcceptSerializer, responses={201: s.MyMembershipSerializer})
    def post(self, request: Request) -> Response:
        if self.api_token is not None:
            raise exceptions.PermissionDenied("Accept invitations while signed in, not with an API token.")
        data = validated(s.InvitationAcceptSerializer, request.data)
        membership = svc.invitation_accept(token=data["token"], account=self.account)
        return Response(s.MyMembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class GroupListView(OrganisationView):
    permissions = {"GET": "organisation.view", "POST": "organisation.manage"}

    @extend_schema(tags=TAG, responses=s.GroupSerializer(many=True))
    def get(self, request: Request, org_id: str) -> Response:
        return self.paginate(sel.group_list(organisation=self.organisation), s.GroupSerializer)

    @extend_schema(tags=TAG, request=s.GroupWriteSerializer, responses={201: s.GroupSerializer})
    def post(self, request: Request, org_id: str) -> Response:
        data = validated(s.GroupWriteSerializer, request.data)
        group = svc.group_save(
            organisation=self.organisation,
            name=data["name"],
            permissions=data["permissions"],
            member_ids=[str(pk) for pk in data["members"]],
        )
        return Response(s.GroupSerializer(group).data, status=status.HTTP_201_CREATED)


class GroupDetailView(OrganisationView):
    permissions = {"GET": "organisation.view", "PUT": "organisation.manage", "DELETE": "organisation.manage"}

    @extend_schema(tags=TAG, responses=s.GroupSerializer)
    def get(self, request: Request, org_id: str, group_id: int) -> Response:
        return Response(
            s.GroupSerializer(sel.group_get(organisation=self.organisation, group_id=group_id)).data
        )

    @extend_schema(tags=TAG, request=s.GroupWriteSerializer, responses=s.GroupSerializer)
    def put(self, request: Request, org_id: str, group_id: int) -> Response:
        group = sel.group_get(organisation=self.organisation, group_id=group_id)
        data = validated(s.GroupWriteSerializer, request.data)
        group = svc.group_save(
            organisation=self.organisation,
            group=group,
            name=data["name"],
            permissions=data["permissions"],
            member_ids=[str(pk) for pk in data["members"]],
        )
        return Response(s.GroupSerializer(group).data)

    @extend_schema(tags=TAG, responses={204: None})
    def delete(self, request: Request, org_id: str, group_id: int) -> Response:
        svc.group_delete(group=sel.group_get(organisation=self.organisation, group_id=group_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _TokenView(OrganisationView):
    """Tokens are managed by signed-in people only: a token cannot mint or list tokens."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.api_token is not None:
            raise exceptions.PermissionDenied(
                "API tokens are managed while signed in, not with an API token."
            )

    def tokens(self) -> Any:
        return token_selectors.api_token_list(account=self.account, organisation=self.organisation)


class ApiTokenListView(_TokenView):
    permissions = {"GET": "organisation.view", "POST": "organisation.view"}

    @extend_schema(tags=["tokens"], responses=s.ApiTokenSerializer(many=True), summary="Your API tokens")
    def get(self, request: Request, org_id: str) -> Response:
        return self.paginate(self.tokens(), s.ApiTokenSerializer)

    @extend_schema(
        tags=["tokens"], request=s.ApiTokenCreateSerializer, responses={201: s.ApiTokenCreatedSerializer}
    )
    def post(self, request: Request, org_id: str) -> Response:
        data = validated(s.ApiTokenCreateSerializer, request.data)
        token, plaintext = api_token_create(
            account=self.account,
            organisation=self.organisation,
            name=data["name"],
            lifetime_days=data["lifetime_days"],
        )
        body = s.ApiTokenSerializer(token).data | {"token": plaintext}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiTokenDetailView(_TokenView):
    permissions = {"DELETE": "organisation.view"}

    @extend_schema(tags=["tokens"], responses={204: None}, summary="Revoke an API token")
    def delete(self, request: Request, org_id: str, token_id: str) -> Response:
        token = token_selectors.api_token_get(
            account=self.account, organisation=self.organisation, token_id=token_id
        )
        api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
