"""A redirect_url that is not even a URL (a port that is no number, an unclosed IPv6 bracket) gets a 400 that
says so, over real HTTP, logged in or not; parsing it once answered 500. A well-formed URL that is not allowed
is still dropped quietly."""

from __future__ import annotations

import pytest
import requests

from flomation.identity.testing import session_token

pytestmark = pytest.mark.django_db(transaction=True)

MALFORMED = ["http://a:abc/", "https://editor.example.test:99999/", "http://[::1/"]


@pytest.mark.parametrize("redirect_url", MALFORMED)
def test_the_login_page_refuses_a_malformed_redirect_url_with_a_clear_400(
    live_server, settings, redirect_url
):
    settings.AUTH_ALLOWED_REDIRECTS = ["https://editor.example.test"]
    response = requests.get(
        live_server.url + "/identity/authenticate", params={"redirect_url": redirect_url}, timeout=10
    )
    assert response.status_code == 400
    assert "redirect_url is not a valid URL" in response.text
    assert 'name="redirect_url" value=""' in response.text


@pytest.mark.parametrize("redirect_url", MALFORMED)
def test_a_logged_in_visitor_with_a_malformed_redirect_url_is_told_so_too(
    live_server, settings, redirect_url
):
    settings.AUTH_ALLOWED_REDIRECTS = ["https://editor.example.test"]
    response = requests.get(
        live_server.url + "/identity/authenticate",
        params={"redirect_url": redirect_url},
        cookies={settings.AUTH_COOKIE_NAME: session_token()},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400 and "redirect_url is not a valid URL" in response.text


def test_a_login_form_posted_with_a_malformed_redirect_url_is_refused_without_echoing_it(live_server):
    browser = requests.Session()
    page = browser.get(live_server.url + "/identity/authenticate", timeout=10)
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = browser.post(
        live_server.url + "/identity/authenticate",
        data={"csrfmiddlewaretoken": token, "email": "someone@example.test", "redirect_url": "http://a:abc/"},
        headers={"Referer": live_server.url + "/identity/authenticate"},
        timeout=10,
    )
    assert response.status_code == 400 and "redirect_url is not a valid URL" in response.text
    assert "http://a:abc/" not in response.text
