"""The fixed permission catalogue, what each role grants by default, and the one membership check.

Every request that touches an organisation's data passes through `membership_require`: a caller who is
not a member gets 404 (the organisation's existence is not revealed), a member without the permission 403.
Groups add permissions from the catalogue on top of the member's role.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import connection
from django.http import Http404

from flomation.core.models import Account, Group, MemberRole, Membership, Organisation
from flomation.core.rows import columns, loaded, width

if TYPE_CHECKING:
    from flomation.core.models import ApiToken


class NotFound(Http404):
    """The object does not exist for this caller (an outsider is told nothing more)."""


class PermissionDenied(DjangoPermissionDenied):
    """The caller is a member but lacks the permission; the message names it."""


CATALOGUE: dict[str, str] = {
    "organisation.view": "See the organisation, its members and groups",
    "organisation.manage": "Rename the organisation; invite, remove and change members; manage groups",
    "flow.view": "See workflows, revisions and deployments",
    "flow.create": "Create and import workflows",
    "flow.edit": "Save new revisions, change workflow settings, pause and resume",
    "flow.delete": "Archive workflows",
    "flow.execute": "Run workflows, cancel, re-run and resume executions",
    "flow.deploy": "Deploy, roll back and promote workflows",
    "execution.view": "See executions and their steps",
    "environment.view": "See environments, variables and secret names",
    "environment.manage": "Create environments; set variables and secrets",
    "connection.view": "See connections (their settings, never their secret fields)",
    "connection.manage": "Create, change and delete connections",
    "connection.use": "Test connections and pick them in flows",
    "runner.view": "See queues and runners",
    "runner.manage": "Create queues, see and rotate registration codes, enable and disable runners",
    "audit.view": "Read and export the organisation's audit log (organisation.manage can too)",
}
PERMISSIONS: frozenset[str] = frozenset(CATALOGUE)

_VIEW = frozenset(
    {"organisation.view", "flow.view", "execution.view", "environment.view", "connection.view", "runner.view"}
)
ROLE_DEFAULTS: dict[str, frozenset[str]] = {
    MemberRole.OWNER: PERMISSIONS,
    MemberRole.ADMIN: PERMISSIONS,
    MemberRole.MEMBER: _VIEW | {"flow.create", "flow.edit", "flow.execute", "connection.use"},
    MemberRole.VIEWER: _VIEW,
}


def permission_validate(name: str) -> str:
    if name not in PERMISSIONS:
        raise ValueError(f"unknown permission {name!r}")
    return name


def membership_permissions(*, membership: Membership) -> frozenset[str]:
    """The member's role defaults plus whatever their groups in that organisation grant."""
    granted = set(ROLE_DEFAULTS.get(membership.role, frozenset()))
    for permissions in Group.objects.filter(
        organisation_id=membership.organisation_id, members=membership.account_id
    ).values_list("permissions", flat=True):
        granted.update(p for p in permissions if p in PERMISSIONS)
    return frozenset(granted)


def _account_id(account_or_user: Any) -> str:
    if isinstance(account_or_user, Account):
        return str(account_or_user.id)
    user_id = getattr(account_or_user, "user_id", None)
    if not user_id:
        raise NotFound("No such organisation.")
    return str(user_id)


@cache
def _membership_sql() -> str:
    tables = (Membership._meta.db_table, Organisation._meta.db_table, Account._meta.db_table)
    return (
        f"SELECT {columns(Membership, 'm')}, {columns(Organisation, 'o')}, {columns(Account, 'a')} "
        f"FROM {tables[0]} m JOIN {tables[1]} o ON o.id = m.organisation_id "
        f"JOIN {tables[2]} a ON a.id = m.account_id WHERE m.organisation_id = %s AND m.account_id = %s"
    )


def _membership(organisation_id: Any, account_id: Any) -> Membership | None:
    """The membership with its organisation and account, in one plain query (every API request asks);
    None when there is none or an id is malformed."""
    try:
        ids = [uuid.UUID(str(organisation_id)), uuid.UUID(str(account_id))]
    except ValueError:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_membership_sql(), ids)
        row = cursor.fetchone()
    if row is None:
        return None
    organisation_at = width(Membership)
    account_at = organisation_at + width(Organisation)
    membership = loaded(Membership, row[:organisation_at])
    assert membership is not None
    membership.organisation = loaded(Organisation, row[organisation_at:account_at])
    membership.account = loaded(Account, row[account_at:])
    return membership


def membership_require(
    *,
    account_or_user: Any,
    organisation_id: Any,
    permission: str | None,
    api_token: ApiToken | None = None,
) -> Membership:
    """Returns the caller's membership of the organisation, checking `permission` (None: membership only).

    Raises NotFound when the caller is not a member (or uses an API token of another organisation) and
    PermissionDenied when the member lacks the permission.
    """
    if permission is not None:
        permission_validate(permission)
    if api_token is not None and str(api_token.organisation_id) != str(organisation_id):
        raise NotFound("No such organisation.")
    membership = _membership(organisation_id, _account_id(account_or_user))
    if membership is None:
        raise NotFound("No such organisation.")
    # Groups only add permissions: the group query is needed only when the role does not grant it.
    if (
        permission is not None
        and permission not in ROLE_DEFAULTS.get(membership.role, frozenset())
        and permission not in membership_permissions(membership=membership)
    ):
        raise PermissionDenied(f"You need the permission {permission!r} in this organisation.")
    return membership


def membership_has(*, membership: Membership, permission: str) -> bool:
    return permission_validate(permission) in membership_permissions(membership=membership)
