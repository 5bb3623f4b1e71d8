"""Settings > Vector collections over HTTP: the organisation's collections with their size, deleted by an
owner, and nothing of another organisation's."""

from __future__ import annotations

import uuid

import pytest

from flomation.core.selectors.vectors import vector_collections_list
from flomation.core.services.vectors import vector_operation_run

pytestmark = pytest.mark.django_db


def stored(organisation_id, name):
    vector_operation_run(organisation_id=organisation_id, operation="create_collection",
                         payload={"name": name, "dimension": 3, "metric": "inner_product"})  # fmt: skip
    vector_operation_run(organisation_id=organisation_id, operation="upsert", payload={
        "collection": name, "documents": [{"id": str(n), "embedding": [n, 1, 0]} for n in range(4)]})  # fmt: skip


def test_the_page_lists_the_organisations_collections_only(team, browser_for):
    stored(team.organisation.id, "support-articles")
    stored(uuid.uuid4(), "someone-elses")
    page = browser_for("viewer").get("/settings/vectors")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-collection="support-articles"' in text and "inner_product" in text and "<td>4</td>" in text
    assert "someone-elses" not in text and "Delete</button>" not in text


def test_an_owner_deletes_a_collection_with_its_documents(team, browser_for):
    stored(team.organisation.id, "support-articles")
    (collection,) = vector_collections_list(organisation_id=team.organisation.id)
    client = browser_for("owner")
    assert "Delete</button>" in client.get("/settings/vectors").content.decode()
    response = client.post(f"/settings/vectors/{collection['id']}/delete")
    assert response.status_code == 302
    assert vector_collections_list(organisation_id=team.organisation.id) == []
    assert (
        "Deleted the collection support-articles and its 4 document(s)."
        in client.get("/settings/vectors").content.decode()
    )


def test_another_organisations_collection_cannot_be_deleted_from_here(team, browser_for):
    theirs = uuid.uuid4()
    stored(theirs, "private")
    (collection,) = vector_collections_list(organisation_id=theirs)
    response = browser_for("owner").post(f"/settings/vectors/{collection['id']}/delete")
    assert response.status_code == 404
    assert vector_collections_list(organisation_id=theirs)[0]["documents"] == 4


def test_each_environment_shows_the_url_of_its_mcp_server(team, browser_for, settings):
    settings.API_URL = "https://flows.example.com/"
    page = browser_for("viewer").get("/settings/environments").content.decode()
    for environment in team.organisation.environments.all():
        assert f"<code data-mcp-url>https://flows.example.com/api/v1/mcp/{environment.id}</code>" in page
