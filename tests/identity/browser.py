"""A browser over real HTTP: `requests` against a live server, with the CSRF cookie and token of its forms."""

from __future__ import annotations

import re
from typing import Any

import requests

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TICKET_FIELD = re.compile(r'name="ticket" value="([^"]+)"')


class HttpBrowser:
    """One visitor: keeps cookies between requests and posts forms with the CSRF token of their page."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(self.url(path), timeout=30, **kwargs)

    def csrf_token(self, form_page: str = "/identity/authenticate") -> str:
        match = CSRF_FIELD.search(self.get(form_page).text)
        assert match, f"no CSRF token on {form_page}"
        return match.group(1)

    def post_form(
        self, path: str, data: dict[str, str], form_page: str = "/identity/authenticate", token: str = ""
    ) -> requests.Response:
        token = token or self.csrf_token(form_page)
        return self.session.post(
            self.url(path), data={"csrfmiddlewaretoken": token, **data}, allow_redirects=False, timeout=60
        )

    def log_in(self, email: str, password: str, redirect_url: str = "") -> requests.Response:
        """Posts the password form; returns identity's answer (302 with the cookie, the code page, or a refusal)."""
        data = {"email": email, "password": password}
        if redirect_url:
            data["redirect_url"] = redirect_url
        return self.post_form("/identity/login", data)

    def enter_code(
        self, code_page: requests.Response, code: str, redirect_url: str = ""
    ) -> requests.Response:
        ticket = TICKET_FIELD.search(code_page.text)
        assert ticket, "no MFA ticket on the code page"
        data = {"ticket": ticket.group(1), "code": code}
        if redirect_url:
            data["redirect_url"] = redirect_url
        return self.post_form("/identity/login/code", data)
