"""The membership check every organisation request makes: one plain query, the ORM's rows, 404s for misses."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flomation.core import models as m
from flomation.core.permissions import NotFound, PermissionDenied, membership_require

pytestmark = pytest.mark.django_db


def same_row(got: object, want: object) -> None:
    for field in type(want)._meta.concrete_fields:
        assert getattr(got, field.attname) == getattr(want, field.attname), field.name


def test_it_loads_the_membership_with_its_organisation_and_account_in_one_query(cast):
    with CaptureQueriesContext(connection) as queries:
        found = membership_require(
            account_or_user=cast.owner, organisation_id=cast.organisation.id, permission="flow.execute"
        )
    assert len(queries) == 1
    want = m.Membership.objects.get(organisation=cast.organisation, account=cast.owner)
    same_row(found, want)
    same_row(found.organisation, cast.organisation)
    same_row(found.account, cast.owner)
    assert not found._state.adding


@pytest.mark.parametrize("organisation_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", None])
def test_a_missing_or_malformed_organisation_is_not_found(cast, organisation_id):
    with pytest.raises(NotFound):
        membership_require(account_or_user=cast.owner, organisation_id=organisation_id, permission=None)


def test_outsiders_are_not_found_and_members_without_the_permission_refused(cast):
    with pytest.raises(NotFound):
        membership_require(
            account_or_user=cast.outsider, organisation_id=cast.organisation.id, permission=None
        )
    with pytest.raises(PermissionDenied):
        membership_require(
            account_or_user=cast.viewer, organisation_id=cast.organisation.id, permission="flow.execute"
        )
