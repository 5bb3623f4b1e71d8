"""Settings > Connections over HTTP: a form per type, secret fields write-only, Test, and the node panel's
picker offering names only."""

from __future__ import annotations

import json

import pytest

from flomation.core import models as m
from flomation.core.services.connections import connection_create, connection_reveal

pytestmark = pytest.mark.django_db

SECRET = "Edit0r-Secret-Pass"


def created(team, **extra):
    fields = {"host": "smtp.example.com", "username": "robot", "password": SECRET, **extra}
    return connection_create(organisation=team.organisation, name="mail", type="smtp", fields=fields)


def test_an_owner_creates_a_connection_from_its_types_form(team, browser_for):
    client = browser_for("owner")
    page = client.get("/settings/connections")
    assert page.status_code == 200
    assert b'data-fields-for="smtp"' in page.content and b'data-fields-for="imap"' in page.content
    response = client.post("/settings/connections/new", {
        "name": "mail", "type": "smtp", "environment": "", "field-host": "smtp.example.com",
        "field-port": "465", "field-security": "tls", "field-username": "robot", "field-password": SECRET,
    })  # fmt: skip
    assert response.status_code == 302
    row = m.Connection.objects.get(organisation=team.organisation)
    assert connection_reveal(connection=row)["port"] == 465
    listing = client.get("/settings/connections")
    assert b"smtp.example.com:465" in listing.content and SECRET.encode() not in listing.content


def test_editing_keeps_an_empty_secret_and_clears_a_ticked_one(team, browser_for):
    row = created(team)
    client = browser_for("owner")
    page = client.get(f"/settings/connections/{row.id}")
    assert b"Set: leave empty to keep" in page.content and SECRET.encode() not in page.content
    form = {"name": "mail", "environment": "", "field-host": "mail.example.com", "field-password": "",
            "field-security": "starttls", "field-username": "robot"}  # fmt: skip
    assert client.post(f"/settings/connections/{row.id}", form).status_code == 302
    row.refresh_from_db()
    assert connection_reveal(connection=row)["password"] == SECRET
    assert connection_reveal(connection=row)["host"] == "mail.example.com"
    client.post(f"/settings/connections/{row.id}", {**form, "clear-password": "on"})
    row.refresh_from_db()
    assert "password" not in connection_reveal(connection=row)


def test_a_bad_field_is_explained_without_echoing_the_secret(team, browser_for):
    response = browser_for("owner").post("/settings/connections/new", {
        "name": "mail", "type": "smtp", "field-host": "", "field-password": SECRET, "field-port": "many",
    })  # fmt: skip
    assert response.status_code == 400
    assert b"host is required" in response.content and b"port must be a whole number" in response.content
    assert SECRET.encode() not in response.content
    assert not m.Connection.objects.exists()


def test_who_may_see_change_and_test(team, browser_for):
    row = created(team)
    viewer, member = browser_for("viewer"), browser_for("member")
    assert viewer.get("/settings/connections").status_code == 200
    assert b"Create connection" not in viewer.get("/settings/connections").content
    assert viewer.post(f"/settings/connections/{row.id}", {"name": "x"}).status_code == 403
    assert viewer.post(f"/settings/connections/{row.id}/delete").status_code == 403
    assert viewer.post(f"/settings/connections/{row.id}/test").status_code == 403
    answer = member.post(f"/settings/connections/{row.id}/test").json()
    assert answer["ok"] is False and "smtp.example.com" in answer["message"]
    assert browser_for("outsider").get(f"/settings/connections/{row.id}").status_code == 404
    assert browser_for("outsider").post(f"/settings/connections/{row.id}/test").status_code == 404
    assert browser_for("owner").post(f"/settings/connections/{row.id}/delete").status_code == 302
    assert not m.Connection.objects.exists()


def test_the_canvas_offers_connection_names_never_their_fields(team, browser_for, hello):
    created(team)
    connection_create(organisation=team.other_organisation, name="theirs", type="smtp", fields={"host": "x"})
    page = browser_for("member").get(f"/workflows/{hello.id}")
    boot = page.content.split(b'id="canvas-boot" type="application/json">')[1].split(b"</script>")[0]
    references = json.loads(boot)["references"]
    assert [(c["name"], c["type"], c["environment"]) for c in references["connections"]] == [
        ("mail", "smtp", None)
    ]
    assert references["canTestConnections"] is True
    assert SECRET.encode() not in page.content and b"smtp.example.com" not in page.content
    manifest = browser_for("member").get("/manifest.json").json()
    send = next(n for n in manifest["nodes"] if n["action"] == "messaging/email/send")
    assert send["inputs"][0] == {**send["inputs"][0], "name": "connection", "type": "connection",
                                 "connection": "smtp"}  # fmt: skip
