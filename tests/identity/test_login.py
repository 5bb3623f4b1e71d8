"""Logging in and out through the pages: cookie, redirects, throttling, CSRF, equal answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from flomation.identity.models import LoginFailure, Session
from tests.identity.conftest import csrf_from, log_in, post_form

pytestmark = pytest.mark.django_db


def test_a_known_address_goes_on_to_the_password_and_login_sets_the_token_cookie(
    browser, make_person, settings
):
    person = make_person()
    page = post_form(browser, "/identity/authenticate", {"email": person.email})
    assert b"Enter your password" in page.content
    response = log_in(browser, person)
    assert response.status_code == 302
    assert response["Location"] == settings.AUTH_LOGIN_REDIRECT
    cookie = response.cookies[settings.AUTH_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == settings.AUTH_TOKEN_LIFETIME
    assert not cookie["secure"]  # AUTH_COOKIE_SECURE=false in the test environment
    assert browser.get("/identity/api/user").json()["email"] == person.email


def test_the_cookie_follows_the_domain_secure_and_http_only_settings(browser, make_person, settings):
    settings.AUTH_COOKIE_DOMAIN = "example.test"
    settings.AUTH_COOKIE_SECURE = True
    settings.AUTH_COOKIE_HTTP_ONLY = False
    settings.AUTH_TOKEN_LIFETIME = 3600
    cookie = log_in(browser, make_person()).cookies[settings.AUTH_COOKIE_NAME]
    assert cookie["domain"] == "example.test"
    assert cookie["secure"] is True
    assert not cookie["httponly"]
    assert int(cookie["max-age"]) == 3600


def test_login_redirects_to_an_allowed_redirect_url(browser, make_person, settings):
    settings.AUTH_ALLOWED_REDIRECTS = ["https://editor.example.test"]
    person = make_person()
    data = {
        "email": person.email,
        "password": person.password,
        "redirect_url": "https://editor.example.test/flows/7",
    }
    response = post_form(browser, "/identity/login", data)
    assert response.status_code == 302
    assert response["Location"] == "https://editor.example.test/flows/7"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.test/",
        "//evil.example.test/",
        "/\\evil.example.test",
        "https://editor.example.test@evil.example.test/",
        "https://editor.example.test.evil.example.test/",
        "http://editor.example.test/",  # another scheme is another origin
        "https://editor.example.test:8443/",
        "javascript:alert(1)",
        " https://evil.example.test",
    ],
)
def test_login_never_redirects_to_a_url_off_the_allowed_list(browser, make_person, settings, target):
    settings.AUTH_ALLOWED_REDIRECTS = ["https://editor.example.test"]
    person = make_person()
    response = post_form(
        browser,
        "/identity/login",
        {"email": person.email, "password": person.password, "redirect_url": target},
    )
    assert response.status_code == 302
    assert response["Location"] == settings.AUTH_LOGIN_REDIRECT


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(browser, make_person):
    person = make_person()
    wrong = post_form(
        browser, "/identity/login", {"email": person.email, "password": "not-the-password-at-all"}
    )
    unknown = post_form(
        browser, "/identity/login", {"email": "nobody@example.test", "password": "whatever-it-is"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert b"The email address or password is wrong." in wrong.content
    assert b"The email address or password is wrong." in unknown.content
    assert "flomation-token" not in wrong.cookies and "flomation-token" not in unknown.cookies


def test_an_unknown_address_sees_the_same_password_page_as_a_known_one(browser, make_person):
    make_person("known@example.test")
    known = post_form(browser, "/identity/authenticate", {"email": "known@example.test"}).content.decode()
    unknown = post_form(browser, "/identity/authenticate", {"email": "other@example.test"}).content.decode()

    def shape(html: str, address: str) -> str:
        import re

        html = html.replace(address, "ADDRESS").replace(address.replace("@", "%40"), "ADDRESS")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert shape(known, "known@example.test") == shape(unknown, "other@example.test")


def test_an_account_is_throttled_after_ten_failures_even_with_the_right_password(browser, make_person):
    person = make_person()
    for n in range(10):
        wrong = post_form(
            browser,
            "/identity/login",
            {"email": person.email, "password": f"wrong-password-{n}"},
            REMOTE_ADDR=f"10.0.0.{n + 1}",
        )
        assert wrong.status_code == 401
    refused = log_in(browser, person, REMOTE_ADDR="10.0.1.1")
    assert refused.status_code == 429
    assert b"Too many failed attempts" in refused.content
    assert "flomation-token" not in refused.cookies
    # The same answer for an address that has no account but as many failures.
    for n in range(10):
        post_form(browser, "/identity/login", {"email": "ghost@example.test", "password": f"x-{n}-password"})
    ghost = post_form(
        browser, "/identity/login", {"email": "ghost@example.test", "password": "anything-at-all"}
    )
    assert ghost.status_code == 429 and b"Too many failed attempts" in ghost.content


def test_the_throttle_lifts_when_the_window_has_passed(browser, make_person):
    person = make_person()
    for n in range(10):
        post_form(browser, "/identity/login", {"email": person.email, "password": f"wrong-password-{n}"})
    assert log_in(browser, person).status_code == 429
    LoginFailure.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    assert log_in(browser, person).status_code == 302


def test_a_client_address_is_throttled_across_accounts(browser, make_person, settings):
    settings.IDENTITY_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5
    person = make_person()
    for n in range(5):
        post_form(
            browser,
            "/identity/login",
            {"email": f"guess{n}@example.test", "password": "password-guess-1"},
            REMOTE_ADDR="203.0.113.9",
        )
    assert log_in(browser, person, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert log_in(browser, person, REMOTE_ADDR="203.0.113.10").status_code == 302


def test_login_forms_need_the_csrf_token(make_person):
    person = make_person()
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post("/identity/login", {"email": person.email, "password": person.password})
    assert refused.status_code == 403
    assert "flomation-token" not in refused.cookies


def test_logout_asks_first_then_ends_the_session_and_clears_the_cookie(browser, make_person, settings):
    person = make_person()
    log_in(browser, person)
    token = browser.cookies[settings.AUTH_COOKIE_NAME].value
    confirm = browser.get("/identity/logout")
    assert confirm.status_code == 200 and Session.objects.filter(revoked_at__isnull=True).count() == 1
    response = post_form(browser, "/identity/logout", {}, form_page="/identity/logout")
    assert response.status_code == 302
    assert response["Location"] == settings.AUTH_LOGOUT_REDIRECT
    cleared = response.cookies[settings.AUTH_COOKIE_NAME]
    assert cleared.value == "" and int(cleared["max-age"]) == 0
    assert Session.objects.get().revoked_at is not None
    replay = Client().get("/identity/api/user", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert replay.status_code == 401


def test_a_logout_form_from_another_site_is_refused(browser, make_person):
    log_in(browser, make_person())
    forged = browser.post("/identity/logout")
    assert forged.status_code == 403
    assert Session.objects.get().revoked_at is None


def test_account_pages_send_a_visitor_without_a_session_to_the_login_page(browser):
    response = browser.get("/identity/account")
    assert response.status_code == 302
    assert response["Location"] == "/identity/authenticate?redirect_url=%2Fidentity%2Faccount"
    page = browser.get(response["Location"])
    assert b'name="redirect_url" value="/identity/account"' in page.content


def test_an_inactive_account_cannot_log_in(browser, make_person):
    person = make_person()
    person.user.is_active = False
    person.user.save()
    response = log_in(browser, person)
    assert response.status_code == 401
    assert b"The email address or password is wrong." in response.content
    csrf_from(browser)


def test_a_logged_in_visitor_of_the_login_page_goes_straight_on(browser, make_person, settings):
    settings.AUTH_ALLOWED_REDIRECTS = ["https://editor.example.test"]
    log_in(browser, make_person())
    response = browser.get("/identity/authenticate", {"redirect_url": "https://editor.example.test/runs"})
    assert response.status_code == 302 and response["Location"] == "https://editor.example.test/runs"
    evil = browser.get("/identity/authenticate", {"redirect_url": "https://evil.example.test/"})
    assert evil["Location"] == settings.AUTH_LOGIN_REDIRECT
