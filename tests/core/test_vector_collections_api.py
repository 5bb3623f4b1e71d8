"""The vector collections API over real HTTP: members see their organisation's collections, an outsider
sees nothing of them and cannot delete them, and a delete takes the documents with it."""

from __future__ import annotations

import pytest
import requests

from flomation.core.selectors.vectors import vector_collections_list
from flomation.core.services.vectors import vector_operation_run
from tests.core.conftest import identity_token

pytestmark = pytest.mark.django_db(transaction=True)


def get(url, account):
    return requests.get(url, headers={"Authorization": "Bearer " + identity_token(account)}, timeout=10)


def delete(url, account):
    return requests.delete(url, headers={"Authorization": "Bearer " + identity_token(account)}, timeout=10)


@pytest.fixture
def collections(cast):
    for organisation, name in ((cast.organisation, "handbook"), (cast.other_organisation, "theirs")):
        vector_operation_run(organisation_id=organisation.id, operation="create_collection",
                             payload={"name": name, "dimension": 2, "metric": "l2"})  # fmt: skip
        vector_operation_run(organisation_id=organisation.id, operation="upsert",
                             payload={"collection": name, "documents": [{"id": "d", "embedding": [1, 2]}]})  # fmt: skip
    return cast


def test_a_viewer_lists_the_organisations_collections_and_nothing_else(live_server, collections):
    cast = collections
    answer = get(f"{live_server.url}{cast.url('vector-collections/')}", cast.viewer)
    assert answer.status_code == 200
    rows = answer.json()["results"] if isinstance(answer.json(), dict) else answer.json()
    assert [(r["name"], r["dimension"], r["metric"], r["documents"]) for r in rows] == [
        ("handbook", 2, "l2", 1)
    ]


def test_an_outsider_sees_no_collection_and_cannot_delete_one(live_server, collections):
    cast = collections
    listing = get(f"{live_server.url}{cast.url('vector-collections/')}", cast.outsider)
    assert listing.status_code in (403, 404) and "handbook" not in listing.text
    (mine,) = vector_collections_list(organisation_id=cast.organisation.id)
    (theirs,) = vector_collections_list(organisation_id=cast.other_organisation.id)
    # Through their own organisation's URL, another organisation's collection id is simply not there.
    other_url = f"{live_server.url}/api/v1/organisations/{cast.other_organisation.id}/vector-collections/"
    assert delete(other_url + mine["id"], cast.outsider).status_code == 404
    assert delete(
        f"{live_server.url}{cast.url('vector-collections/')}{mine['id']}", cast.outsider
    ).status_code in (403, 404)
    assert vector_collections_list(organisation_id=cast.organisation.id)[0]["documents"] == 1
    assert delete(other_url + theirs["id"], cast.outsider).status_code == 204


def test_a_member_may_not_delete_but_an_owner_deletes_with_the_documents(live_server, collections):
    cast = collections
    (mine,) = vector_collections_list(organisation_id=cast.organisation.id)
    url = f"{live_server.url}{cast.url('vector-collections/')}{mine['id']}"
    assert delete(url, cast.member).status_code == 403
    assert delete(url, cast.owner).status_code == 204
    assert vector_collections_list(organisation_id=cast.organisation.id) == []
    assert delete(url, cast.owner).status_code == 404
