"""The JSON API: tokens for scripts, introspection, sessions; CSRF for cookies, none for Bearer."""

from __future__ import annotations

import pytest
from django.test import Client

from flomation.identity.models import Session
from tests.identity.conftest import csrf_from, log_in, next_code, post_form

pytestmark = pytest.mark.django_db


def _token(client: Client, **body):
    return client.post("/identity/api/token", body, content_type="application/json")


def test_a_script_exchanges_email_and_password_for_a_token(make_person):
    person = make_person("ada@example.test")
    response = _token(Client(), email="Ada@Example.TEST", password=person.password)
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "Bearer" and body["session_id"] and body["expires_at"]
    assert response["Cache-Control"] == "no-store"
    assert "flomation-token" not in response.cookies
    me = Client().get("/identity/api/user", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.json() == {"user_id": str(person.user.id), "email": person.email, "display_name": ""}
    assert Session.objects.get(id=body["session_id"]).method == Session.Method.API


def test_the_token_endpoint_answers_unknown_and_wrong_alike(make_person):
    person = make_person()
    wrong = _token(Client(), email=person.email, password="wrong-password-here")
    unknown = _token(Client(), email="nobody@example.test", password="wrong-password-here")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "The email address or password is wrong."}


def test_the_token_endpoint_refuses_malformed_bodies():
    response = Client().post("/identity/api/token", "{not json", content_type="application/json")
    assert response.status_code == 400
    missing = _token(Client(), email="a@example.test")
    assert missing.status_code == 400 and "password" in missing.json()


def test_the_token_endpoint_needs_the_code_when_mfa_is_on(make_person):
    person = make_person(mfa_on=True)
    without = _token(Client(), email=person.email, password=person.password)
    assert without.status_code == 401 and without.json()["mfa_required"] is True
    wrong = _token(Client(), email=person.email, password=person.password, totp="000000")
    assert wrong.status_code == 401
    code = next_code(person.totp)
    assert _token(Client(), email=person.email, password=person.password, totp=code).status_code == 201
    replay = _token(Client(), email=person.email, password=person.password, totp=code)
    assert replay.status_code == 401 and "already been used" in replay.json()["detail"]


def test_the_token_endpoint_is_throttled_with_retry_after(make_person):
    person = make_person()
    for n in range(10):
        _token(Client(), email=person.email, password=f"wrong-password-{n}")
    response = _token(Client(), email=person.email, password=person.password)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 900
    assert "Too many failed attempts" in response.json()["detail"]


def test_a_user_lists_their_sessions_and_revokes_one_whose_token_then_stops(make_person):
    person = make_person()
    first = _token(Client(), email=person.email, password=person.password).json()
    second = _token(Client(), email=person.email, password=person.password).json()
    caller = Client(HTTP_AUTHORIZATION=f"Bearer {first['token']}")
    listed = caller.get("/identity/api/sessions").json()
    assert {row["id"] for row in listed} == {first["session_id"], second["session_id"]}
    assert [row["current"] for row in listed if row["id"] == first["session_id"]] == [True]
    assert caller.delete(f"/identity/api/sessions/{second['session_id']}").status_code == 204
    gone = Client().get("/identity/api/user", HTTP_AUTHORIZATION=f"Bearer {second['token']}")
    assert gone.status_code == 401
    assert caller.delete(f"/identity/api/sessions/{second['session_id']}").status_code == 404


def test_a_user_cannot_revoke_someone_elses_session(make_person):
    ada, bob = make_person("ada@example.test"), make_person("bob@example.test")
    ada_token = _token(Client(), email=ada.email, password=ada.password).json()["token"]
    bob_session = _token(Client(), email=bob.email, password=bob.password).json()["session_id"]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {ada_token}").delete(
        f"/identity/api/sessions/{bob_session}"
    )
    assert response.status_code == 404
    assert Session.objects.get(id=bob_session).revoked_at is None


def test_a_cookie_authenticated_unsafe_request_needs_the_csrf_token(browser, make_person):
    person = make_person()
    log_in(browser, person)
    other = _token(Client(), email=person.email, password=person.password).json()["session_id"]
    refused = browser.delete(f"/identity/api/sessions/{other}")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = csrf_from(browser)
    accepted = browser.delete(f"/identity/api/sessions/{other}", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 204


def test_a_bearer_authenticated_unsafe_request_needs_no_csrf_token(make_person):
    person = make_person()
    token = _token(Client(), email=person.email, password=person.password).json()["token"]
    other = _token(Client(), email=person.email, password=person.password).json()["session_id"]
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.delete(f"/identity/api/sessions/{other}").status_code == 204


def test_a_password_change_stops_every_token_of_the_user(browser, make_person):
    person = make_person()
    script = _token(Client(), email=person.email, password=person.password).json()["token"]
    log_in(browser, person)
    changed = post_form(
        browser,
        "/identity/account/password",
        {
            "current_password": person.password,
            "password": "new-harbour-compass-2024",
            "password_again": "new-harbour-compass-2024",
        },
        form_page="/identity/account",
    )
    assert changed.status_code == 302
    assert Client().get("/identity/api/user", HTTP_AUTHORIZATION=f"Bearer {script}").status_code == 401
    # This browser got a new session; the old password no longer logs in.
    assert browser.get("/identity/api/user").status_code == 200
    assert _token(Client(), email=person.email, password=person.password).status_code == 401
    assert _token(Client(), email=person.email, password="new-harbour-compass-2024").status_code == 201


def test_the_browser_sessions_page_lists_and_ends_sessions(browser, make_person):
    person = make_person()
    log_in(browser, person)
    other = _token(Client(), email=person.email, password=person.password).json()
    page = browser.get("/identity/sessions")
    assert page.status_code == 200
    assert b"(this one)" in page.content and other["session_id"].encode() in page.content
    ended = post_form(
        browser, f"/identity/sessions/{other['session_id']}/revoke", {}, form_page="/identity/sessions"
    )
    assert ended.status_code == 302
    assert (
        Client().get("/identity/api/user", HTTP_AUTHORIZATION=f"Bearer {other['token']}").status_code == 401
    )
