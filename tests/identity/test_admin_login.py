"""The operators' admin over real HTTP: it is reached only through identity's login (throttle, MFA,
sessions); `/admin/login/` never checks a password itself."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from flomation.identity.models import LoginFailure, Session
from tests.identity.browser import HttpBrowser
from tests.identity.conftest import next_code


@pytest.fixture
def server(live_server, transactional_db, settings):
    settings.IDENTITY_LOGIN_FAILURE_LIMIT = 10
    return live_server


def _follow_admin_to_identity(browser: HttpBrowser, path: str = "/admin/identity/user/") -> str:
    """Opens an admin page while logged out and follows the redirects to identity's login; returns the
    redirect_url identity was given."""
    to_admin_login = browser.get(path)
    assert to_admin_login.status_code == 302 and "/admin/login/" in to_admin_login.headers["Location"]
    to_identity = browser.get(to_admin_login.headers["Location"])
    assert to_identity.status_code == 302
    location = urlsplit(to_identity.headers["Location"])
    assert location.path == "/identity/authenticate"
    return parse_qs(location.query)["redirect_url"][0]


@pytest.mark.parametrize("mfa_on", [False, True], ids=["without TOTP", "with TOTP"])
def test_posting_the_right_password_to_admin_login_does_not_log_in(server, make_person, mfa_on, caplog):
    operator = make_person("ops@example.test", admin=True, mfa_on=mfa_on)
    browser = HttpBrowser(server.url)
    token = browser.csrf_token()
    answer = browser.post_form(
        "/admin/login/?next=/admin/",
        {"username": operator.email, "password": operator.password, "next": "/admin/"},
        token=token,
    )
    assert answer.status_code == 302
    assert urlsplit(answer.headers["Location"]).path == "/identity/authenticate"
    assert "flomation-token" not in answer.cookies and "sessionid" not in answer.cookies
    assert browser.get("/admin/").status_code == 302  # still logged out
    assert not Session.objects.exists()
    assert any("Admin login form posted" in r.getMessage() for r in caplog.records)
    assert operator.password not in caplog.text


def test_sixty_one_wrong_passwords_on_the_way_into_the_admin_are_throttled(server, make_person):
    operator = make_person("ops@example.test", admin=True)
    browser = HttpBrowser(server.url)
    redirect_url = _follow_admin_to_identity(browser)
    statuses = Counter(
        browser.log_in(operator.email, f"wrong-password-{n}", redirect_url).status_code for n in range(61)
    )
    # Also posted to /admin/login/: nothing there counts or checks anything.
    token = browser.csrf_token()
    for n in range(61):
        answer = browser.post_form(
            "/admin/login/", {"username": operator.email, "password": f"wrong-{n}"}, token=token
        )
        assert answer.status_code == 302
    assert statuses == Counter({401: 10, 429: 51})
    assert LoginFailure.objects.filter(email=operator.email).count() == 10
    refused = browser.log_in(operator.email, operator.password, redirect_url)
    assert refused.status_code == 429 and "flomation-token" not in refused.cookies
    assert browser.get("/admin/").status_code == 302


def test_an_operator_with_totp_gets_into_the_admin_only_after_the_code(server, make_person):
    operator = make_person("ops@example.test", admin=True, mfa_on=True)
    browser = HttpBrowser(server.url)
    redirect_url = _follow_admin_to_identity(browser)
    assert redirect_url == "/admin/identity/user/"
    code_page = browser.log_in(operator.email, operator.password, redirect_url)
    assert code_page.status_code == 200 and 'name="ticket"' in code_page.text
    assert "flomation-token" not in browser.session.cookies
    assert browser.get("/admin/").status_code == 302
    wrong = browser.enter_code(code_page, "000000", redirect_url)
    assert wrong.status_code == 401 and browser.get("/admin/").status_code == 302
    done = browser.enter_code(code_page, next_code(operator.totp), redirect_url)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/identity/user/"
    users = browser.get("/admin/identity/user/")
    assert users.status_code == 200 and operator.email in users.text


def test_the_admin_works_after_identitys_login_and_its_logout_ends_the_identity_session(server, make_person):
    operator = make_person("ops@example.test", admin=True)
    browser = HttpBrowser(server.url)
    redirect_url = _follow_admin_to_identity(browser, "/admin/")
    assert browser.log_in(operator.email, operator.password, redirect_url).headers["Location"] == "/admin/"
    index = browser.get("/admin/")
    assert index.status_code == 200 and "Site administration" in index.text
    # A change through an admin form (CSRF token of the page) works with the identity session.
    change_url = f"/admin/identity/user/{operator.user.pk}/change/"
    token = browser.csrf_token(change_url)
    ended = Session.objects.get(user=operator.user)
    action = browser.post_form(
        "/admin/identity/session/",
        {"action": "revoke", "_selected_action": [str(ended.pk)]},
        token=token,
    )
    assert action.status_code == 302
    ended.refresh_from_db()
    assert ended.revoked_at is not None  # the operator ended their own session through the admin
    assert browser.get("/admin/").status_code == 302


def test_admin_logout_ends_the_identity_session(server, make_person):
    operator = make_person("ops@example.test", admin=True)
    browser = HttpBrowser(server.url)
    assert browser.log_in(operator.email, operator.password, "/admin/").status_code == 302
    old_token = browser.session.cookies["flomation-token"]
    token = browser.csrf_token("/admin/")
    out = browser.post_form("/admin/logout/", {}, token=token)
    assert out.status_code == 302
    assert Session.objects.get(user=operator.user).revoked_at is not None
    replay = HttpBrowser(server.url)
    replay.session.cookies.set("flomation-token", old_token)
    assert replay.get("/admin/").status_code == 302


def test_a_logged_in_person_who_is_not_staff_is_refused_without_a_redirect_loop(server, make_person):
    person = make_person("ada@example.test")
    browser = HttpBrowser(server.url)
    assert browser.log_in(person.email, person.password, "/admin/").status_code == 302
    to_login = browser.get("/admin/")
    assert to_login.status_code == 302
    refused = browser.get(to_login.headers["Location"])
    assert refused.status_code == 403 and "Not an operator account" in refused.text


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/admin/", "/identity/account"])
def test_admin_login_sends_back_only_to_admin_pages(server, next_url):
    answer = HttpBrowser(server.url).get("/admin/login/", params={"next": next_url})
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["redirect_url"] == ["/admin/"]
