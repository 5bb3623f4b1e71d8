"""Autosaves coalesce: moving nodes makes no revision, quick edits by one author make one, a named save or a
deployment closes a revision, and a save from an out-of-date copy is refused (service and live HTTP)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from flomation.core import models as m
from flomation.core.services.deployments import workflow_deploy
from flomation.core.services.errors import Conflict
from flomation.core.services.workflows import workflow_save
from tests.core import factories as f
from tests.core.conftest import identity_token
from tests.runner.conftest import live_api  # noqa: F401  (fixture)


def moved(flow: dict, node_id: str, x: int, y: int) -> dict:
    result = copy.deepcopy(flow)
    for node in result["nodes"]:
        if node["id"] == node_id:
            node["position"] = {"x": x, "y": y}
    result["viewport"] = {"x": x, "y": y, "zoom": 0.8}
    return result


def edited(flow: dict, value: str) -> dict:
    result = copy.deepcopy(flow)
    result["nodes"][1]["data"]["config"]["inputs"][1]["value"] = value
    return result


@pytest.fixture
def workflow(cast):
    workflow = f.WorkflowFactory(organisation=cast.organisation, revisions=0)
    workflow_save(workflow=workflow, flow=f.flow(), author=cast.member, message="First version")
    return workflow


def numbers(workflow) -> list[int]:
    return list(workflow.revisions.order_by("number").values_list("number", flat=True))


def test_dragging_nodes_makes_no_revision_and_keeps_the_last_positions(cast, workflow):
    latest = workflow.revisions.get()
    flow = latest.flow
    for x in range(10, 130, 10):  # twelve drags
        flow = moved(flow, flow["nodes"][0]["id"], x, x * 2)
        revision = workflow_save(workflow=workflow, flow=flow, author=cast.member)
        assert revision.created is False
    assert numbers(workflow) == [1]
    stored = workflow.revisions.get()
    assert stored.flow["nodes"][0]["position"] == {"x": 120, "y": 240}
    assert stored.flow["viewport"]["zoom"] == 0.8
    assert stored.message == "First version" and stored.edits == 12


def test_three_quick_edits_by_one_author_make_one_revision(cast, workflow):
    flow = workflow.revisions.get().flow
    saved = [workflow_save(workflow=workflow, flow=edited(flow, v), author=cast.member) for v in "abc"]
    assert [r.number for r in saved] == [2, 2, 2]
    assert [r.created for r in saved] == [True, False, False]
    assert numbers(workflow) == [1, 2]
    second = workflow.revisions.get(number=2)
    assert second.edits == 2 and second.message == ""
    assert second.flow["nodes"][1]["data"]["config"]["inputs"][1]["value"] == "c"
    workflow.refresh_from_db()
    assert workflow.latest_revision == 2


def test_a_named_save_makes_a_new_revision_and_ends_the_coalescing(cast, workflow):
    flow = workflow.revisions.get().flow
    workflow_save(workflow=workflow, flow=edited(flow, "a"), author=cast.member)
    named = workflow_save(workflow=workflow, flow=edited(flow, "b"), author=cast.member, message="Adds b")
    assert (named.number, named.created, named.message) == (3, True, "Adds b")
    after = workflow_save(workflow=workflow, flow=edited(flow, "c"), author=cast.member)
    assert (after.number, after.created) == (4, True)
    assert workflow.revisions.get(number=3).flow["nodes"][1]["data"]["config"]["inputs"][1]["value"] == "b"
    # a named save of an unchanged flow still makes a version
    again = workflow_save(
        workflow=workflow, flow=edited(flow, "c"), author=cast.member, message="Same, named"
    )
    assert (again.number, again.created) == (5, True)


def test_a_deployed_revision_is_never_changed_in_place(cast, workflow):
    flow = workflow.revisions.get().flow
    draft = workflow_save(workflow=workflow, flow=edited(flow, "a"), author=cast.member)
    workflow_deploy(
        workflow=workflow,
        environment=cast.environment(),
        revision_number=draft.number,
        deployed_by=cast.owner,
    )
    deployed_flow = workflow.revisions.get(number=draft.number).flow
    # neither an edit nor a drag touches it: each goes to a new revision
    edit = workflow_save(workflow=workflow, flow=edited(flow, "b"), author=cast.member)
    assert (edit.number, edit.created) == (3, True)
    workflow_deploy(
        workflow=workflow, environment=cast.environment(), revision_number=3, deployed_by=cast.owner
    )
    drag = workflow_save(workflow=workflow, flow=moved(edit.flow, "t1", 500, 500), author=cast.member)
    assert (drag.number, drag.created) == (4, True)
    stored = workflow.revisions.get(number=draft.number)
    assert stored.flow == deployed_flow and stored.edits == 0 and stored.sealed
    assert workflow.revisions.get(number=3).edits == 0


def test_another_author_or_an_old_revision_starts_a_new_one(cast, workflow, settings):
    flow = workflow.revisions.get().flow
    mine = workflow_save(workflow=workflow, flow=edited(flow, "a"), author=cast.member)
    theirs = workflow_save(workflow=workflow, flow=edited(flow, "b"), author=cast.owner)
    assert (mine.number, theirs.number, theirs.created) == (2, 3, True)
    m.Revision.objects.filter(id=theirs.id).update(created_at=timezone.now() - timedelta(minutes=11))
    later = workflow_save(workflow=workflow, flow=edited(flow, "c"), author=cast.owner)
    assert (later.number, later.created) == (4, True)
    settings.REVISION_COALESCE_SECONDS = 0
    off = workflow_save(workflow=workflow, flow=edited(flow, "d"), author=cast.owner)
    assert (off.number, off.created) == (5, True)


def test_leaving_the_editor_seals_the_revision(cast, workflow):
    flow = workflow.revisions.get().flow
    first = workflow_save(workflow=workflow, flow=edited(flow, "a"), author=cast.member, seal=True)
    assert first.sealed
    back = workflow_save(workflow=workflow, flow=edited(flow, "b"), author=cast.member)
    assert (first.number, back.number, back.created) == (2, 3, True)


def test_a_save_from_an_out_of_date_copy_is_refused_even_when_the_number_is_the_same(cast, workflow):
    flow = workflow.revisions.get().flow
    # two tabs open revision 2 with no in-place edits yet
    opened = workflow_save(workflow=workflow, flow=edited(flow, "a"), author=cast.member)
    seen = (opened.number, opened.edits)
    tab_one = workflow_save(
        workflow=workflow,
        flow=edited(flow, "one"),
        author=cast.member,
        base_revision=seen[0],
        base_edits=seen[1],
    )
    assert (tab_one.number, tab_one.edits) == (2, 1)
    with pytest.raises(Conflict, match="saved elsewhere"):
        workflow_save(
            workflow=workflow,
            flow=edited(flow, "two"),
            author=cast.member,
            base_revision=seen[0],
            base_edits=seen[1],
        )
    assert workflow.revisions.get(number=2).flow["nodes"][1]["data"]["config"]["inputs"][1]["value"] == "one"
    # tab one, up to date, keeps saving
    workflow_save(
        workflow=workflow, flow=edited(flow, "one+"), author=cast.member, base_revision=2, base_edits=1
    )


@pytest.mark.django_db(transaction=True)
def test_api_autosaves_coalesce_and_a_stale_tab_gets_409_over_http(live_api):  # noqa: F811
    organisation = f.OrganisationFactory(name="Acme")
    author = f.MembershipFactory(organisation=organisation, role=m.MemberRole.MEMBER).account
    workflow = f.WorkflowFactory(organisation=organisation, revisions=0)
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + identity_token(author)
    url = f"{live_api}/api/v1/organisations/{organisation.id}/workflows/{workflow.id}/revisions/"

    def post(body: dict) -> requests.Response:
        return http.post(url, json=body, timeout=15)

    flow = f.flow()
    first = post({"flow": flow, "message": "Start"})
    assert first.status_code == 201 and first.json()["number"] == 1
    drags = [post({"flow": moved(flow, "t1", x, x)}) for x in (10, 20, 30)]
    assert [r.status_code for r in drags] == [200, 200, 200]
    assert {r.json()["number"] for r in drags} == {1}
    edits = [post({"flow": edited(flow, v), "base_revision": 1, "base_edits": 3}) for v in ("x",)]
    assert edits[0].status_code == 201 and edits[0].json()["number"] == 2
    tab_a = post({"flow": edited(flow, "a"), "base_revision": 2, "base_edits": 0})
    assert tab_a.status_code == 200, tab_a.text
    assert (tab_a.json()["number"], tab_a.json()["edits"]) == (2, 1)
    tab_b = post({"flow": edited(flow, "b"), "base_revision": 2, "base_edits": 0})
    assert tab_b.status_code == 409 and "saved elsewhere" in tab_b.text
    named = post({"flow": edited(flow, "a"), "message": "Release candidate"})
    assert named.status_code == 201 and named.json()["number"] == 3 and named.json()["sealed"] is True
    listed = http.get(url, timeout=15).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["number"] for r in rows] == [3, 2, 1]
