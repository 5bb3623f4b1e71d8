"""Connections through the API: typed, validated, write-only secret fields, tested for real, and no
organisation ever sees or reaches another's."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings

from flomation.core import models as m
from flomation.lib import crypto
from tests.support.mail import PASSWORD, USER, smtp_server

pytestmark = pytest.mark.django_db

SECRET = "Pa55-word-never-shown-9876"


def smtp_body(**fields):
    return {
        "name": "Mail",
        "type": "smtp",
        "fields": {"host": "127.0.0.1", "port": 2525, "username": USER, "password": SECRET,
                   "security": "none", **fields},
    }  # fmt: skip


@pytest.fixture
def created(cast, as_):
    response = as_("owner").post(cast.url("connections/"), smtp_body(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_types_are_listed_with_their_fields(cast, as_):
    types = {t["type"]: t for t in as_("viewer").get(cast.url("connection-types")).json()}
    smtp = types["smtp"]
    assert smtp["label"] == "SMTP (send email)"
    password = next(f for f in smtp["fields"] if f["name"] == "password")
    assert password["secret"] is True and password["type"] == "secret"
    security = next(f for f in smtp["fields"] if f["name"] == "security")
    assert security["options"] == ["starttls", "tls", "none"]


def test_a_created_connection_shows_its_settings_but_only_whether_its_secret_is_set(cast, as_, created):
    assert created["name"] == "Mail" and created["type"] == "smtp" and created["environment"] is None
    assert created["fields"] == {
        "host": "127.0.0.1", "port": 2525, "username": USER, "password": {"set": True},
        "security": "none", "from_address": None,
    }  # fmt: skip
    row = m.Connection.objects.get(id=created["id"])
    assert SECRET not in row.ciphertext and "127.0.0.1" not in row.ciphertext
    assert SECRET in crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, row.ciphertext)
    listing = as_("viewer").get(cast.url("connections/")).json()["results"]
    assert [c["id"] for c in listing] == [created["id"]]


def test_a_patch_that_leaves_the_secret_out_keeps_it(cast, as_, created):
    url = cast.url(f"connections/{created['id']}")
    changed = as_("owner").patch(url, {"fields": {"port": 2526, "password": {"set": True}}}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["fields"]["port"] == 2526 and changed.json()["fields"]["username"] == USER
    from flomation.core.services.connections import connection_reveal

    assert connection_reveal(connection=m.Connection.objects.get(id=created["id"]))["password"] == SECRET
    cleared = as_("owner").patch(url, {"fields": {"password": None}}, format="json").json()
    assert cleared["fields"]["password"] == {"set": False}


def test_invalid_fields_are_refused_with_reasons_and_nothing_is_written(cast, as_, created):
    client = as_("owner")
    bad = client.post(
        cast.url("connections/"), smtp_body(port="many", security="rot13", extra=1), format="json"
    )
    assert bad.status_code == 400
    body = bad.json()
    assert body["port"] == ["port must be a whole number."]
    assert body["security"] == ["security must be one of: starttls, tls, none."]
    assert "Unknown field(s) extra" in body["fields"][0]
    missing = client.post(
        cast.url("connections/"), {"name": "x", "type": "smtp", "fields": {}}, format="json"
    )
    assert missing.status_code == 400 and missing.json()["host"] == ["host is required."]
    unknown = client.post(cast.url("connections/"), {"name": "x", "type": "carrier-pigeon"}, format="json")
    assert unknown.status_code == 400 and "Unknown connection type" in unknown.json()["detail"]
    patch = client.patch(
        cast.url(f"connections/{created['id']}"), {"name": "Renamed", "fields": {"port": "x"}}, format="json"
    )
    assert patch.status_code == 400
    assert m.Connection.objects.count() == 1 and m.Connection.objects.get().name == "Mail"


def test_names_are_unique_per_environment_and_for_all_environments(cast, as_, created):
    client = as_("owner")
    again = client.post(cast.url("connections/"), smtp_body(), format="json")
    assert again.status_code == 409 and "already exists for all environments" in again.json()["detail"]
    production = cast.environment("production")
    body = {**smtp_body(), "environment": str(production.id)}
    assert client.post(cast.url("connections/"), body, format="json").status_code == 201
    assert client.post(cast.url("connections/"), body, format="json").status_code == 409
    foreign = cast.other_organisation.environments.first()
    elsewhere = client.post(cast.url("connections/"), {**body, "environment": str(foreign.id)}, format="json")
    assert elsewhere.status_code == 400 and "No such environment" in elsewhere.json()["detail"]


def test_another_organisations_connection_is_not_found(cast, as_, created):
    outsider = as_("outsider")
    theirs = f"/api/v1/organisations/{cast.other_organisation.id}/connections/{created['id']}"
    assert outsider.get(theirs).status_code == 404
    assert outsider.patch(theirs, {"name": "mine"}, format="json").status_code == 404
    assert outsider.post(theirs + "/test").status_code == 404
    assert outsider.delete(theirs).status_code == 404
    assert outsider.get(cast.url(f"connections/{created['id']}")).status_code == 404
    assert (
        as_("outsider")
        .get(f"/api/v1/organisations/{cast.other_organisation.id}/connections/")
        .json()["results"]
        == []
    )
    assert m.Connection.objects.get(id=created["id"]).name == "Mail"


def test_a_viewer_sees_but_cannot_change_test_or_delete(cast, as_, created):
    url = cast.url(f"connections/{created['id']}")
    viewer = as_("viewer")
    assert viewer.get(url).status_code == 200
    assert viewer.patch(url, {"name": "x"}, format="json").status_code == 403
    assert viewer.post(url + "/test").status_code == 403
    assert viewer.delete(url).status_code == 403
    assert as_("owner").delete(url).status_code == 204
    assert as_("owner").get(url).status_code == 404


def test_the_test_button_logs_in_for_real_through_the_organisations_egress_policy(cast, as_, tmp_path):
    client = as_("member")
    owner = as_("owner")
    with smtp_server(tmp_path, auth=True) as server:
        body = smtp_body(port=server.port, password=PASSWORD)
        good = owner.post(cast.url("connections/"), body, format="json").json()
        body["name"], body["fields"]["password"] = "Wrong", "not-the-" + SECRET
        wrong = owner.post(cast.url("connections/"), body, format="json").json()
        refused = client.post(cast.url(f"connections/{good['id']}/test")).json()
        assert (
            refused["ok"] is False and "egress refused: 127.0.0.1 is a loopback address" in refused["message"]
        )
        cast.organisation.egress_allow = ["127.0.0.0/8"]
        cast.organisation.save(update_fields=["egress_allow"])
        ok = client.post(cast.url(f"connections/{good['id']}/test")).json()
        bad = client.post(cast.url(f"connections/{wrong['id']}/test")).json()
    assert ok == {"ok": True, "message": f"connected to 127.0.0.1:{server.port} (no encryption) as {USER}"}
    assert server.logins == [USER]
    assert bad["ok"] is False and "authentication failed for user 'mailer'" in bad["message"]
    assert SECRET not in bad["message"]


def test_the_test_says_when_nothing_answers(cast, as_):
    from tests.support.servers import free_port

    cast.organisation.egress_allow = ["127.0.0.0/8"]
    cast.organisation.save(update_fields=["egress_allow"])
    created = as_("owner").post(cast.url("connections/"), smtp_body(port=free_port()), format="json").json()
    answer = as_("owner").post(cast.url(f"connections/{created['id']}/test")).json()
    assert answer["ok"] is False and "connection refused by 127.0.0.1" in answer["message"]


def test_no_response_log_or_error_carries_a_secret_field(cast, as_, created, caplog, admin_client):
    caplog.set_level(logging.DEBUG)
    client = as_("owner")
    url = cast.url(f"connections/{created['id']}")
    responses = [
        client.get(cast.url("connections/")),
        client.get(url),
        client.patch(url, {"fields": {"password": SECRET + "2"}}, format="json"),
        client.patch(url, {"fields": {"port": SECRET}}, format="json"),
        client.post(cast.url("connections/"), smtp_body(), format="json"),
        client.post(url + "/test"),
        as_("viewer").patch(url, {"fields": {"password": SECRET}}, format="json"),
        as_("outsider").get(url),
        admin_client.get("/admin/core/connection/"),
        admin_client.get(f"/admin/core/connection/{created['id']}/change/"),
    ]
    for response in responses:
        assert SECRET.encode() not in response.content, response.content
    row = m.Connection.objects.get(id=created["id"])
    assert all(row.ciphertext.encode() not in r.content for r in responses)
    assert SECRET not in caplog.text


LOOPBACK_FIELDS = {
    "postgresql": {"host": "127.0.0.1", "port": 5432, "database": "test", "username": "postgres"},
    "mysql": {"host": "127.0.0.1", "port": 3306, "database": "test", "username": "root"},
    "redis": {"host": "127.0.0.1", "port": 6379},
    "mqtt": {"host": "127.0.0.1", "port": 1883},
    "amqp": {"host": "127.0.0.1", "port": 5672, "username": "guest", "password": "guest"},
    "nats": {"servers": "nats://127.0.0.1:4222"},
    "s3": {"access_key_id": "k", "secret_access_key": "s", "endpoint_url": "http://127.0.0.1:9000"},
    "ssh": {"host": "127.0.0.1", "port": 22, "username": "root", "password": "x"},
}


@pytest.mark.parametrize("kind", sorted(LOOPBACK_FIELDS))
def test_every_type_says_the_egress_policy_refused_a_loopback_server(cast, as_, kind):
    body = {"name": f"local-{kind}", "type": kind, "fields": LOOPBACK_FIELDS[kind]}
    created = as_("owner").post(cast.url("connections/"), body, format="json")
    assert created.status_code == 201, created.json()
    answer = as_("owner").post(cast.url(f"connections/{created.json()['id']}/test")).json()
    assert answer["ok"] is False and "127.0.0.1 is a loopback address" in answer["message"], answer
