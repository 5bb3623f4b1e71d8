"""Workflows: saving validated revisions, listing, duplicating, favourites, import and export, lifecycle."""

from __future__ import annotations

import json

import pytest

from flomation.core import models as m
from tests.core import factories as f

pytestmark = pytest.mark.django_db


def test_invalid_json_is_refused_with_a_message(cast, as_):
    response = as_("member").generic(
        "POST", cast.url("workflows/"), '{"name": "x", "flow": {', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_body_that_is_not_an_object_is_refused(cast, as_):
    response = as_("member").post(cast.url("workflows/"), [1, 2], format="json")
    assert response.status_code == 400
    assert "JSON object" in response.json()["detail"]


def test_an_invalid_flow_is_refused_naming_node_and_field(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    bad = f.flow()
    bad["nodes"].append(
        f.node("c1", "conditional/if", 4, [{"name": "operator", "type": "string", "value": "bogus"}])
    )
    bad["nodes"].append(f.node("x9", "no/such-node", 2))
    bad["edges"].append({"id": "e2", "source": "o1", "target": "c1"})
    response = as_("member").post(
        cast.url(f"workflows/{workflow.id}/revisions/"), {"flow": bad}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert {"node_id": "c1", "field": "operator"} in [
        {k: e[k] for k in ("node_id", "field")} for e in body["errors"]
    ]
    assert any(e["node_id"] == "x9" for e in body["errors"])
    assert "'c1'" in body["detail"] and "'operator'" in body["detail"]
    assert workflow.revisions.count() == 1


def test_a_flow_without_nodes_is_refused(cast, as_):
    response = as_("member").post(cast.url("workflows/"), {"name": "x", "flow": {"edges": []}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "nodes"
    assert not m.Workflow.objects.filter(name="x").exists()


def test_every_save_makes_the_next_numbered_revision_with_author_and_message(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    url = cast.url(f"workflows/{workflow.id}/revisions/")
    for message in ("second", "third"):
        response = as_("member").post(url, {"flow": f.flow(value=message), "message": message}, format="json")
        assert response.status_code == 201
    listing = as_("viewer").get(url).json()["results"]
    assert [(r["number"], r["message"]) for r in listing] == [(3, "third"), (2, "second"), (1, "r1")]
    assert listing[0]["author"]["id"] == str(cast.member.id)
    first = as_("viewer").get(url + "1").json()
    assert first["flow"] == f.flow()


def test_the_list_searches_filters_and_paginates(cast, as_):
    f.WorkflowFactory(organisation=cast.organisation, name="Invoice sync")
    f.WorkflowFactory(organisation=cast.organisation, name="Onboarding", state="paused")
    f.WorkflowFactory(organisation=cast.organisation, name="Old", state="archived")
    f.WorkflowFactory(organisation=cast.other_organisation, name="Invoice elsewhere")
    client = as_("viewer")
    assert [w["name"] for w in client.get(cast.url("workflows/?search=invoice")).json()["results"]] == [
        "Invoice sync"
    ]
    assert [w["name"] for w in client.get(cast.url("workflows/?state=paused")).json()["results"]] == [
        "Onboarding"
    ]
    everything = client.get(cast.url("workflows/?ordering=name")).json()
    assert [w["name"] for w in everything["results"]] == ["Invoice sync", "Onboarding"]
    page = client.get(cast.url("workflows/?limit=1&ordering=name")).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


def test_favourites_are_per_person(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    assert as_("viewer").put(cast.url(f"workflows/{workflow.id}/favourite")).json() == {"is_favourite": True}
    assert as_("viewer").get(cast.url("workflows/?favourite=true")).json()["count"] == 1
    assert as_("member").get(cast.url("workflows/?favourite=true")).json()["count"] == 0
    as_("viewer").delete(cast.url(f"workflows/{workflow.id}/favourite"))
    assert as_("viewer").get(cast.url(f"workflows/{workflow.id}/")).json()["is_favourite"] is False


def test_duplicating_copies_the_latest_flow_into_a_new_draft(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation, revisions=2, state="active")
    response = as_("member").post(cast.url(f"workflows/{workflow.id}/duplicate"), {}, format="json")
    assert response.status_code == 201
    copy = m.Workflow.objects.get(id=response.json()["id"])
    assert copy.name == f"{workflow.name} (copy)" and copy.state == "draft"
    assert copy.revisions.get().flow == workflow.revisions.get(number=2).flow


def test_an_exported_workflow_imports_unchanged(cast, as_):
    flow = f.flow(value="${t1.start}")
    flow["nodes"][0]["position"] = {"x": 10, "y": 20}
    flow["viewport"] = {"x": 0, "y": 0, "zoom": 1.5}
    workflow = f.WorkflowFactory(organisation=cast.organisation, revisions__flow=flow, description="d")
    exported = as_("viewer").get(cast.url(f"workflows/{workflow.id}/export")).json()
    response = as_("member").post(cast.url("workflows/import"), {"document": exported}, format="json")
    assert response.status_code == 201
    imported = m.Workflow.objects.get(id=response.json()["id"])
    assert imported.name == workflow.name and imported.description == "d"
    assert imported.revisions.get().flow == flow


def test_a_bare_flow_from_the_editor_imports_as_it_is(cast, as_):
    document = {"name": "From Flomation", **f.flow()}
    response = as_("member").post(cast.url("workflows/import"), {"document": document}, format="json")
    assert response.status_code == 201
    assert m.Revision.objects.get(workflow_id=response.json()["id"]).flow == f.flow()


def test_a_flomation_export_wrapper_imports_with_its_flow_name(cast, as_):
    document = {
        "flomation_export": {"version": 1, "source_flow_name": "Old name", "hash": "00"},
        "flow_data": {"name": "From Flomation", "scale": 1.0, "x": 0, "y": 0, "revision": f.flow()},
    }
    response = as_("member").post(cast.url("workflows/import"), {"document": document}, format="json")
    assert response.status_code == 201
    imported = m.Workflow.objects.get(id=response.json()["id"])
    assert imported.name == "From Flomation" and imported.revisions.get().flow == f.flow()


def test_an_import_that_is_no_flow_says_which_shapes_are_accepted(cast, as_):
    response = as_("member").post(cast.url("workflows/import"), {"document": {"x": 1}}, format="json")
    assert response.status_code == 400 and "flomation_export" in json.dumps(response.json())


def test_archiving_keeps_the_workflow_but_refuses_saves(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    response = as_("owner").delete(cast.url(f"workflows/{workflow.id}/"))
    assert response.status_code == 200 and response.json()["state"] == "archived"
    refused = as_("owner").post(
        cast.url(f"workflows/{workflow.id}/revisions/"), {"flow": f.flow()}, format="json"
    )
    assert refused.status_code == 409
    assert "archived" in refused.json()["detail"]
    restored = as_("owner").patch(cast.url(f"workflows/{workflow.id}/"), {"state": "draft"}, format="json")
    assert restored.json()["state"] == "draft"


def test_a_member_cannot_archive_through_the_state_field(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    response = as_("member").patch(
        cast.url(f"workflows/{workflow.id}/"), {"state": "archived"}, format="json"
    )
    assert response.status_code == 403


def test_a_draft_cannot_be_paused(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    response = as_("member").patch(cast.url(f"workflows/{workflow.id}/"), {"state": "paused"}, format="json")
    assert response.status_code == 409
    assert "draft" in response.json()["detail"]


def test_a_workflow_cannot_use_another_organisations_queue(cast, as_):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    foreign = f.QueueFactory(organisation=cast.other_organisation)
    response = as_("member").patch(
        cast.url(f"workflows/{workflow.id}/"), {"queue": str(foreign.id)}, format="json"
    )
    assert response.status_code == 404
    own = f.QueueFactory(organisation=cast.organisation)
    response = as_("member").patch(
        cast.url(f"workflows/{workflow.id}/"), {"queue": str(own.id)}, format="json"
    )
    assert response.json()["queue"] == str(own.id)
