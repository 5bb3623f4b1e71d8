from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from flomation.core.models import Account, Group, Invitation, Membership, Organisation
from flomation.core.selectors.common import get_or_404


def organisation_list(*, account: Account) -> QuerySet[Organisation]:
    return Organisation.objects.filter(memberships__account=account).order_by("name")


def account_memberships(*, account: Account, organisation_id: Any = None) -> QuerySet[Membership]:
    """The account's memberships with their organisations (only `organisation_id`'s when given)."""
    rows = Membership.objects.filter(account=account).select_related("organisation")
    return rows.filter(organisation_id=organisation_id) if organisation_id is not None else rows


def membership_list(*, organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation).select_related("account").order_by("created_at")
    )


def membership_get(*, organisation: Organisation, account_id: Any) -> Membership:
    return get_or_404(membership_list(organisation=organisation), "member", account_id=account_id)


def invitation_list(*, organisation: Organisation) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organisation=organisation, accepted_at__isnull=True).order_by(
        "-created_at"
    )


def invitation_get(*, organisation: Organisation, invitation_id: Any) -> Invitation:
    return get_or_404(Invitation.objects.filter(organisation=organisation), "invitation", id=invitation_id)


def group_list(*, organisation: Organisation) -> QuerySet[Group]:
    return Group.objects.filter(organisation=organisation).prefetch_related("members").order_by("name")


def group_get(*, organisation: Organisation, group_id: Any) -> Group:
    return get_or_404(group_list(organisation=organisation), "group", id=group_id)
