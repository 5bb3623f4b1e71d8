"""Reading personal API tokens: each person sees only their own, one organisation at a time."""

from __future__ import annotations

import pytest

from flomation.core import models as m
from flomation.core.permissions import NotFound
from flomation.core.selectors.tokens import api_token_get, api_token_list
from flomation.core.services.tokens import api_token_create, api_token_revoke
from tests.core import factories as f

pytestmark = pytest.mark.django_db


def test_a_person_lists_their_tokens_for_one_organisation_newest_first_revoked_ones_included(cast):
    older, _ = api_token_create(account=cast.member, organisation=cast.organisation, name="laptop")
    newer, _ = api_token_create(account=cast.member, organisation=cast.organisation, name="ci")
    api_token_revoke(token=older)
    api_token_create(account=cast.owner, organisation=cast.organisation, name="owner's")
    f.MembershipFactory(organisation=cast.other_organisation, account=cast.member, role=m.MemberRole.MEMBER)
    api_token_create(account=cast.member, organisation=cast.other_organisation, name="elsewhere")
    listed = list(api_token_list(account=cast.member, organisation=cast.organisation))
    assert [t.name for t in listed] == ["ci", "laptop"]
    assert listed[1].revoked_at is not None and newer.revoked_at is None


def test_someone_elses_token_or_a_malformed_id_is_not_found(cast):
    token, _ = api_token_create(account=cast.owner, organisation=cast.organisation, name="ci")
    assert api_token_get(account=cast.owner, organisation=cast.organisation, token_id=token.id) == token
    for account, organisation, token_id in [
        (cast.member, cast.organisation, token.id),
        (cast.owner, cast.other_organisation, token.id),
        (cast.owner, cast.organisation, "not-a-uuid"),
    ]:
        with pytest.raises(NotFound):
            api_token_get(account=account, organisation=organisation, token_id=token_id)
