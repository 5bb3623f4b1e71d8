"""Organisations, members, invitations, permissions and personal API tokens, through core's services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404

from flomation.core import models as core
from flomation.core import permissions as core_permissions
from flomation.core.selectors import organisations as org_selectors
from flomation.core.selectors import tokens as token_selectors
from flomation.core.services import members as member_services
from flomation.core.services import organisations as org_services
from flomation.core.services import tokens as token_services
from flomation.editor.gateway import NotFound, Refused
from flomation.identity.tokens import IdentityUser

# Core's permission catalogue (flomation.core.permissions), under the names the editor's views use.
VIEW = "flow.view"
CREATE = "flow.create"
EDIT = "flow.edit"
ARCHIVE = "flow.delete"
RUN = "flow.execute"
DEPLOY = "flow.deploy"
EXECUTIONS = "execution.view"
ENV_VIEW = "environment.view"
ENV_MANAGE = "environment.manage"
RUNNER_VIEW = "runner.view"
RUNNER_MANAGE = "runner.manage"
ORG_VIEW = "organisation.view"
ORG_MANAGE = "organisation.manage"


@dataclass(frozen=True)
class Member:
    account_id: str
    email: str
    display_name: str
    role: str
    joined_at: Any


def account_touch(*, user: IdentityUser) -> core.Account:
    return org_services.account_touch(user=user)


def organisation_create(*, name: str, owner: core.Account) -> core.Organisation:
    name = name.strip()
    if not name:
        raise Refused("Give the organisation a name.")
    if len(name) > 200:
        raise Refused("The organisation's name is too long: 200 characters at most.")
    return org_services.organisation_create(name=name, owner=owner)


def memberships_for(*, account: core.Account) -> list[core.Membership]:
    """The caller's memberships, oldest first, with their organisations."""
    organisations = {o.id: o for o in org_selectors.organisation_list(account=account)}
    rows = []
    for organisation in organisations.values():
        membership = org_selectors.membership_get(organisation=organisation, account_id=account.id)
        rows.append(membership)
    return sorted(rows, key=lambda m: m.created_at)


def permissions_of(*, membership: core.Membership) -> frozenset[str]:
    return core_permissions.membership_permissions(membership=membership)


def membership_require(*, account: core.Account, organisation_id: Any, permission: str) -> core.Membership:
    return core_permissions.membership_require(
        account_or_user=account, organisation_id=organisation_id, permission=permission
    )


def member_list(*, organisation: core.Organisation) -> list[Member]:
    return [
        Member(str(m.account_id), m.account.email, m.account.display_name, m.role, m.created_at)
        for m in org_selectors.membership_list(organisation=organisation)
    ]


def _membership(organisation: core.Organisation, account_id: str) -> core.Membership:
    try:
        return org_selectors.membership_get(organisation=organisation, account_id=account_id)
    except Exception as exc:
        raise NotFound("That person is not a member of this organisation.") from exc


def member_set_role(
    *, organisation: core.Organisation, account_id: str, role: str, acting: core.Membership
) -> None:
    member_services.membership_set_role(
        membership=_membership(organisation, account_id), role=role, acting=acting
    )


def member_remove(*, organisation: core.Organisation, account_id: str, acting: core.Membership) -> None:
    member_services.membership_remove(membership=_membership(organisation, account_id), acting=acting)


def invitation_list(*, organisation: core.Organisation) -> list[core.Invitation]:
    return list(org_selectors.invitation_list(organisation=organisation))


def invitation_create(
    *, organisation: core.Organisation, email: str, role: str, acting: core.Membership
) -> tuple[core.Invitation, str]:
    """Returns the invitation and its one-time token (core emails it too)."""
    return member_services.invitation_create(
        organisation=organisation, email=email, role=role, invited_by=acting.account, acting=acting
    )


def invitation_revoke(*, organisation: core.Organisation, invitation_id: str) -> None:
    invitation = org_selectors.invitation_get(organisation=organisation, invitation_id=invitation_id)
    member_services.invitation_revoke(invitation=invitation)


def invitation_accept(*, token: str, account: core.Account) -> core.Organisation:
    return member_services.invitation_accept(token=token.strip(), account=account).organisation


def api_token_list(*, account: core.Account, organisation: core.Organisation) -> list[core.ApiToken]:
    return list(token_selectors.api_token_list(account=account, organisation=organisation))


def api_token_create(
    *, account: core.Account, organisation: core.Organisation, name: str, days: int
) -> tuple[core.ApiToken, str]:
    """Returns the token row and the token itself, which is shown once and stored only hashed."""
    return token_services.api_token_create(
        account=account, organisation=organisation, name=name.strip(), lifetime_days=days
    )


def api_token_revoke(*, account: core.Account, organisation: core.Organisation, token_id: str) -> None:
    """Revokes one of the account's tokens for this organisation."""
    gone = NotFound("That token does not exist or is already revoked.")
    try:
        token = token_selectors.api_token_get(account=account, organisation=organisation, token_id=token_id)
    except Http404:
        raise gone from None
    if token.revoked_at is not None:
        raise gone
    token_services.api_token_revoke(token=token)
