"""The workflows list, first login, organisation switching, the canvas and its JSON endpoints."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from flomation.core import models as m
from flomation.editor.starters import STARTERS
from tests.core.conftest import identity_token
from tests.editor.conftest import cookie_client

pytestmark = pytest.mark.django_db


def boot_of(response, element_id: str = "canvas-boot") -> dict:
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)


def test_it_sends_a_visitor_without_a_token_to_identitys_login_page():
    response = Client().get("/workflows")
    assert response.status_code == 302
    assert "/identity/authenticate?redirect_url=" in response["Location"]
    assert "%2Fworkflows" in response["Location"]


def test_it_answers_json_endpoints_without_a_token_with_401():
    response = Client().get("/manifest.json")
    assert response.status_code == 401
    assert response.json()["error"] == "Log in to continue."


def test_a_first_login_creates_the_users_organisation():
    from tests.core import factories as f

    account = f.AccountFactory()
    client = Client()
    client.cookies["flomation-token"] = identity_token(account)
    assert client.get("/workflows")["Location"] == "/welcome"
    page = client.get("/welcome")
    assert b"Organisation name" in page.content
    assert client.post("/welcome", {"name": ""}).content.count(b"Give the organisation a name.") == 1
    response = client.post("/welcome", {"name": "Zeta Labs"})
    assert response.status_code == 302
    organisation = m.Organisation.objects.get(name="Zeta Labs")
    assert response.cookies["flomation-org"].value == str(organisation.id)
    assert m.Membership.objects.get(organisation=organisation, account=account).role == "owner"
    assert client.get("/workflows").status_code == 200


def test_the_list_shows_workflows_with_search_and_last_run(team, hello, browser_for):
    page = browser_for("member").get("/workflows")
    assert page.status_code == 200
    assert b"Hello" in page.content and b"Never run" in page.content
    link = f'href="/workflows/{hello.id}"'.encode()
    assert link in page.content
    assert link not in browser_for("member").get("/workflows?q=nothing-like-it").content


def test_an_outsider_sees_neither_the_workflow_nor_its_flow(team, hello, browser_for):
    assert browser_for("outsider").get(f"/workflows/{hello.id}").status_code == 404
    assert browser_for("outsider").get(f"/workflows/{hello.id}/flow").status_code == 404


def test_the_organisation_switcher_changes_the_current_organisation(team, browser_for):
    from tests.core import factories as f

    f.MembershipFactory(organisation=team.other_organisation, account=team.member, role="member")
    client = browser_for("member")
    response = client.post(
        "/organisations/switch", {"organisation": str(team.other_organisation.id), "next": "//evil"}
    )
    assert response["Location"] == "/workflows"
    client.cookies["flomation-org"] = response.cookies["flomation-org"].value
    assert b"selected>Elsewhere" in client.get("/workflows").content
    refused = client.post("/organisations/switch", {"organisation": "not-mine"})
    assert refused.status_code == 404


def test_creating_from_a_starter_opens_its_canvas(team, browser_for):
    client = browser_for("member")
    response = client.post("/workflows/new", {"name": "Greeter", "starter": "hello"})
    workflow = m.Workflow.objects.get(name="Greeter")
    assert response["Location"] == f"/workflows/{workflow.id}"
    canvas = client.get(response["Location"])
    boot = boot_of(canvas)
    assert [n["type"] for n in boot["flow"]["nodes"]] == ["trigger/manual", "output/set"]
    assert boot["canEdit"] is True and boot["revision"] == 1
    assert b"vendor/drawflow/drawflow.min.js" in canvas.content


def test_creating_without_a_name_says_what_is_missing(team, browser_for):
    response = browser_for("member").post("/workflows/new", {"name": " ", "starter": "blank"})
    assert response.status_code == 400
    assert b"A workflow needs a name." in response.content


def test_a_viewer_cannot_create_workflows(team, browser_for):
    response = browser_for("viewer").post("/workflows/new", {"name": "Nope", "starter": "blank"})
    assert response.status_code == 403
    assert b"does not allow that" in response.content


def test_duplicate_archive_and_restore(team, hello, browser_for):
    client = browser_for("owner")
    copy = client.post(f"/workflows/{hello.id}/duplicate")
    assert copy.status_code == 302
    assert m.Workflow.objects.filter(organisation=team.organisation).count() == 2
    assert client.post(f"/workflows/{hello.id}/archive").status_code == 302
    hello.refresh_from_db()
    assert hello.state == "archived"
    assert b"Hello" in client.get("/workflows?archived=1").content
    client.post(f"/workflows/{hello.id}/archive", {"restore": "1"})
    hello.refresh_from_db()
    assert hello.state == "draft"


def test_export_then_import_round_trips_the_flow(team, hello, browser_for):
    client = browser_for("owner")
    exported = client.get(f"/workflows/{hello.id}/export")
    assert exported["Content-Disposition"] == 'attachment; filename="hello.json"'
    upload = SimpleUploadedFile("hello.json", exported.content, content_type="application/json")
    response = client.post("/workflows/import", {"file": upload, "name": "Hello again"})
    imported = m.Workflow.objects.get(name="Hello again")
    assert response["Location"] == f"/workflows/{imported.id}"
    assert imported.revisions.get().flow == hello.revisions.get().flow


def test_importing_a_bare_react_flow_file_and_a_broken_file(team, browser_for):
    client = browser_for("owner")
    bare = json.dumps(STARTERS["webhook-branch"]["flow"]).encode()
    response = client.post("/workflows/import", {"file": SimpleUploadedFile("f.json", bare)})
    assert response.status_code == 302
    broken = client.post("/workflows/import", {"file": SimpleUploadedFile("f.json", b"{nope")})
    assert broken.status_code == 400
    assert b"The file is not valid JSON" in broken.content


def test_a_flomation_export_and_a_yaml_flow_import_from_the_editor(team, browser_for):
    import yaml

    client = browser_for("owner")
    flow = STARTERS["webhook-branch"]["flow"]
    wrapper = {
        "flomation_export": {"version": 1, "source_flow_name": "Old"},
        "flow_data": {"name": "From Flomation", "revision": flow},
    }
    response = client.post(
        "/workflows/import", {"file": SimpleUploadedFile("a.json", json.dumps(wrapper).encode())}
    )
    assert response.status_code == 302
    assert m.Workflow.objects.get(name="From Flomation").revisions.get().flow == flow
    as_yaml = yaml.safe_dump({"name": "From YAML", **flow}).encode()
    assert (
        client.post("/workflows/import", {"file": SimpleUploadedFile("b.yaml", as_yaml)}).status_code == 302
    )
    assert m.Workflow.objects.get(name="From YAML").revisions.get().flow == flow
    broken = client.post("/workflows/import", {"file": SimpleUploadedFile("c.yml", b"nodes: [\n")})
    assert broken.status_code == 400 and b"The file is not valid YAML" in broken.content


def test_autosave_makes_a_revision_with_a_summary_of_the_change(team, hello, browser_for):
    client = browser_for("member")
    flow = client.get(f"/workflows/{hello.id}/flow").json()["flow"]
    flow["nodes"][1]["data"]["config"]["inputs"][1]["value"] = "Changed"
    response = client.put(
        f"/workflows/{hello.id}/flow", {"flow": flow, "base_revision": 1}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["revision"] == 2
    assert response.json()["summary"] == ["Changed output/set"]
    stale = client.put(
        f"/workflows/{hello.id}/flow", {"flow": flow, "base_revision": 1}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert "Revision 2 was saved elsewhere" in stale.json()["error"]


def test_autosave_of_an_invalid_flow_answers_the_problems_per_node(team, hello, browser_for):
    flow = {"nodes": [{"id": "x1", "type": "no/such-node", "data": {"config": {"type": 2}}}], "edges": []}
    response = browser_for("member").put(
        f"/workflows/{hello.id}/flow", {"flow": flow}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["node_id"] == "x1"


def test_autosave_with_the_cookie_needs_the_csrf_token(team, hello):
    client = cookie_client(team.member, enforce_csrf=True)
    response = client.put(f"/workflows/{hello.id}/flow", {"flow": {}}, content_type="application/json")
    assert response.status_code == 403


def test_a_viewer_can_look_at_the_canvas_but_not_save(team, hello, browser_for):
    client = browser_for("viewer")
    assert boot_of(client.get(f"/workflows/{hello.id}"))["canEdit"] is False
    response = client.put(f"/workflows/{hello.id}/flow", {"flow": {}}, content_type="application/json")
    assert response.status_code == 403


def test_validate_reports_problems_without_saving(team, hello, browser_for):
    flow = {"nodes": [{"id": "x1", "type": "no/such-node", "data": {"config": {"type": 2}}}], "edges": []}
    response = browser_for("member").post(
        f"/workflows/{hello.id}/validate", {"flow": flow}, content_type="application/json"
    )
    assert response.json()["errors"][0]["node_id"] == "x1"
    assert hello.revisions.count() == 1


def test_history_lists_changes_and_restore_saves_a_new_revision(team, hello, browser_for):
    client = browser_for("member")
    flow = client.get(f"/workflows/{hello.id}/flow").json()["flow"]
    flow["edges"] = []
    client.put(f"/workflows/{hello.id}/flow", {"flow": flow}, content_type="application/json")
    page = client.get(f"/workflows/{hello.id}/revisions")
    assert b"Disconnected trigger/manual \xe2\x86\x92 output/set" in page.content
    restored = client.post(f"/workflows/{hello.id}/revisions/1/restore")
    assert restored.status_code == 302
    latest = hello.revisions.order_by("-number").first()
    assert latest.number == 3 and latest.message == "Restored revision 1" and latest.flow["edges"]


def test_the_manifest_feeds_the_palette(team, browser_for):
    manifest = browser_for("member").get("/manifest.json").json()
    actions = {n["action"] for n in manifest["nodes"]}
    assert {"trigger/manual", "output/set", "conditional/if"} <= actions
    assert manifest["categories"]
    condition = next(n for n in manifest["nodes"] if n["action"] == "conditional/if")
    assert condition["handles"] == ["true-branch", "false-branch"]


def test_two_tabs_on_one_coalescing_revision_cannot_overwrite_each_other(team, hello, browser_for):
    client = browser_for("member")
    url = f"/workflows/{hello.id}/flow"
    flow = client.get(url).json()["flow"]

    def put(value: str, base: int, edits: int, **extra: object):  # noqa: ANN202 - a test response
        flow["nodes"][1]["data"]["config"]["inputs"][1]["value"] = value
        body = {"flow": flow, "base_revision": base, "base_edits": edits, **extra}
        return client.put(url, body, content_type="application/json")

    first = put("Tab one, first", 1, 0)
    assert (first.json()["revision"], first.json()["edits"], first.json()["created"]) == (2, 0, True)
    second_tab = client.get(url).json()
    assert (second_tab["revision"], second_tab["edits"]) == (2, 0)
    again = put("Tab one, again", 2, 0)
    assert (again.status_code, again.json()["revision"], again.json()["edits"]) == (200, 2, 1)
    assert again.json()["created"] is False and again.json()["summary"] == ["Changed output/set"]
    stale = put("Tab two", second_tab["revision"], second_tab["edits"])
    assert stale.status_code == 409 and "saved elsewhere" in stale.json()["error"]
    assert "Tab one, again" in str(hello.revisions.get(number=2).flow)
    # tab one leaves (sealing revision 2); its next visit starts revision 3
    assert put("Tab one, again", 2, 1, seal=True).json()["revision"] == 2
    assert put("Next visit", 2, 1).json()["revision"] == 3


def test_people_not_logged_in_are_sent_to_the_configured_login_page(team, settings):
    from django.test import Client

    settings.IDENTITY_LOGIN_URL = "https://sentinel.example.com/authenticate"
    response = Client().get("/workflows")
    assert response.status_code == 302
    assert response["Location"].startswith("https://sentinel.example.com/authenticate?redirect_url=")
