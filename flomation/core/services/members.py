"""Organisation membership: roles, invitations by email (expiring, single use) and permission groups."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from flomation.core.models import Account, Group, Invitation, MemberRole, Membership, Organisation
from flomation.core.permissions import PERMISSIONS
from flomation.core.services.audit import audit_change, audit_record
from flomation.core.services.errors import Conflict
from flomation.lib import crypto

INVITATION_LIFETIME = timedelta(days=7)


@transaction.atomic
def organisation_update(
    *, organisation: Organisation, name: str | None = None, accept_shared_runners: bool | None = None
) -> Organisation:
    fields = []
    before = {"name": organisation.name, "accept_shared_runners": organisation.accept_shared_runners}
    if name is not None:
        if not name.strip() or len(name.strip()) > 200:
            raise ValidationError({"name": "An organisation name is 1 to 200 characters."})
        organisation.name = name.strip()
        fields.append("name")
    if accept_shared_runners is not None:
        organisation.accept_shared_runners = accept_shared_runners
        fields.append("accept_shared_runners")
    if fields:
        organisation.save(update_fields=fields)
        audit_record(
            action="organisation.updated",
            organisation_id=organisation.id,
            target_type="organisation",
            target_id=organisation.id,
            summary={
                "before": {f: before[f] for f in fields},
                "after": {f: getattr(organisation, f) for f in fields},
            },
        )
    return organisation


def _member_audited(membership: Membership, action: str, summary: dict[str, object]) -> None:
    audit_record(
        action=action,
        organisation_id=membership.organisation_id,
        target_type="member",
        target_id=membership.account_id,
        summary=summary,
    )


def _owners(organisation_id: object) -> int:
    return Membership.objects.filter(organisation_id=organisation_id, role=MemberRole.OWNER).count()


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, acting: Membership) -> Membership:
    """Changes a member's role. Only an owner grants or takes away ownership; the last owner stays one."""
    if role not in MemberRole.values:
        raise ValidationError({"role": f"Choose a role from {', '.join(MemberRole.values)}."})
    touches_owner = MemberRole.OWNER in (role, membership.role)
    if touches_owner and acting.role != MemberRole.OWNER:
        raise Conflict("Only an owner can make someone an owner or change an owner's role.")
    Membership.objects.select_for_update().filter(organisation_id=membership.organisation_id).exists()
    if (
        membership.role == MemberRole.OWNER
        and role != MemberRole.OWNER
        and _owners(membership.organisation_id) <= 1
    ):
        raise Conflict("The organisation needs at least one owner; make someone else owner first.")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if before != role:
        _member_audited(
            membership, "member.role_changed", {"before": {"role": before}, "after": {"role": role}}
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, acting: Membership) -> None:
    """Removes a member (or lets a member leave); never the last owner, and only owners remove owners."""
    if membership.role == MemberRole.OWNER:
        if acting.role != MemberRole.OWNER:
            raise Conflict("Only an owner can remove an owner.")
        if _owners(membership.organisation_id) <= 1:
            raise Conflict("The organisation needs at least one owner; make someone else owner first.")
    for group in Group.objects.filter(
        organisation_id=membership.organisation_id, members=membership.account_id
    ):
        group.members.remove(membership.account_id)
    membership.delete()
    left = membership.account_id == acting.account_id
    _member_audited(membership, "member.left" if left else "member.removed", {"role": membership.role})


@transaction.atomic
def invitation_create(
    *, organisation: Organisation, email: str, role: str, invited_by: Account, acting: Membership
) -> tuple[Invitation, str]:
    """Invites an email address; returns the invitation and its token (emailed, and shown once)."""
    email = (email or "").strip()
    if "@" not in email or len(email) > 254:
        raise ValidationError({"email": "Give the email address to invite."})
    if role not in MemberRole.values:
        raise ValidationError({"role": f"Choose a role from {', '.join(MemberRole.values)}."})
    if role == MemberRole.OWNER and acting.role != MemberRole.OWNER:
        raise Conflict("Only an owner can invite another owner.")
    if Membership.objects.filter(organisation=organisation, account__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member.")
    token = crypto.random_token("fri_", 24)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=crypto.sha256_hex(token),
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    _invitation_audited(invitation, "invitation.created")
    link = f"{settings.EDITOR_URL.rstrip('/')}/invitations/accept?token={token}"
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to {organisation.name} on Flomation",
            message=(
                f"{invited_by.display_name or invited_by.email} invited you to join {organisation.name} "
                f"as {role}.\n\nAccept within 7 days: {link}\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
            fail_silently=True,
        )
    )
    return invitation, token


def _invitation_audited(invitation: Invitation, action: str, **extra: object) -> None:
    summary = {"email": invitation.email, "role": invitation.role, **extra}
    audit_change(instance=invitation, action=action, summary=summary, related=extra.values())


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise Conflict("The invitation was already accepted; remove the member instead.")
    invitation_id = invitation.id
    invitation.delete()
    invitation.id = invitation_id
    _invitation_audited(invitation, "invitation.revoked")


@transaction.atomic
def invitation_accept(*, token: str, account: Account) -> Membership:
    """Turns an invitation into a membership for the signed-in account whose email it was sent to."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organisation")
        .filter(token_hash=crypto.sha256_hex(token or ""))
        .first()
    )
    if invitation is None:
        raise ValidationError({"token": "This invitation does not exist; ask for a new one."})
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been used.")
    if invitation.expires_at <= timezone.now():
        raise Conflict("This invitation has expired; ask for a new one.")
    if invitation.email.lower() != (account.email or "").lower():
        raise Conflict("This invitation was sent to another email address; sign in with that address.")
    membership, _ = Membership.objects.get_or_create(
        organisation=invitation.organisation, account=account, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = account
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _invitation_audited(invitation, "invitation.accepted", account=str(account.id))
    return membership


def _check_group(organisation: Organisation, permissions: list[str], member_ids: list[str]) -> None:
    unknown = sorted(set(permissions) - PERMISSIONS)
    if unknown:
        raise ValidationError({"permissions": f"Unknown permissions: {', '.join(unknown)}."})
    members = set(
        str(pk)
        for pk in Membership.objects.filter(organisation=organisation, account_id__in=member_ids).values_list(
            "account_id", flat=True
        )
    )
    outsiders = sorted(set(map(str, member_ids)) - members)
    if outsiders:
        raise ValidationError({"members": f"Not members of the organisation: {', '.join(outsiders)}."})


@transaction.atomic
def group_save(
    *,
    organisation: Organisation,
    name: str,
    permissions: list[str],
    member_ids: list[str],
    group: Group | None = None,
) -> Group:
    """Creates or replaces a group (name, permissions from the catalogue, member account ids)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError({"name": "A group name is 1 to 120 characters."})
    _check_group(organisation, permissions, member_ids)
    clash = Group.objects.filter(organisation=organisation, name=name)
    if group is not None:
        clash = clash.exclude(id=group.id)
    if clash.exists():
        raise Conflict(f"There is already a group named {name!r}.")
    before = _group_summary(group) if group is not None else None
    if group is None:
        group = Group.objects.create(
            organisation=organisation, name=name, permissions=sorted(set(permissions))
        )
    else:
        group.name, group.permissions = name, sorted(set(permissions))
        group.save(update_fields=["name", "permissions"])
    group.members.set(member_ids)
    after = _group_summary(group)
    summary = {"after": after} if before is None else {"before": before, "after": after}
    audit_change(
        instance=group, action="group.created" if before is None else "group.updated", summary=summary
    )
    return group


def _group_summary(group: Group) -> dict[str, object]:
    members = sorted(str(pk) for pk in group.members.values_list("id", flat=True))
    return {"name": group.name, "permissions": list(group.permissions), "members": members}


@transaction.atomic
def group_delete(*, group: Group) -> None:
    group_id, summary = group.id, {"before": _group_summary(group)}
    group.delete()
    group.id = group_id
    audit_change(instance=group, action="group.deleted", summary=summary)
