from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from flomation.core.models import Account, Environment, MemberRole, Membership, Organisation
from flomation.core.services.audit import audit_record
from flomation.identity.tokens import IdentityUser

DEFAULT_ENVIRONMENTS = ("development", "staging", "production")


def account_touch(*, user: IdentityUser) -> Account:
    """Returns the caller's Account, creating it on the first authenticated request."""
    account, created = Account.objects.get_or_create(
        id=user.user_id, defaults={"email": user.email, "display_name": user.display_name}
    )
    return account if created else account_sync(account=account, user=user)


def account_sync(*, account: Account, user: IdentityUser) -> Account:
    """Brings the caller's Account up to date with identity's email and name (a write only if they changed)."""
    changed = [
        name
        for name in ("email", "display_name")
        if getattr(user, name) and getattr(account, name) != getattr(user, name)
    ]
    for name in changed:
        setattr(account, name, getattr(user, name))
    if changed:
        account.save(update_fields=changed)
    return account


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "organisation"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organisation_create(*, name: str, owner: Account) -> Organisation:
    """Creates an organisation with its owner and the development, staging and production environments."""
    organisation = Organisation.objects.create(name=name.strip(), slug=_unique_slug(name), created_by=owner)
    Membership.objects.create(organisation=organisation, account=owner, role=MemberRole.OWNER)
    Environment.objects.bulk_create(
        Environment(organisation=organisation, name=env_name, position=position)
        for position, env_name in enumerate(DEFAULT_ENVIRONMENTS)
    )
    owner.last_seen_at = timezone.now()
    owner.save(update_fields=["last_seen_at"])
    audit_record(
        action="organisation.created",
        organisation_id=organisation.id,
        target_type="organisation",
        target_id=organisation.id,
        related=[owner.id],
        summary={"name": organisation.name, "slug": organisation.slug, "owner": str(owner.id)},
    )
    return organisation
