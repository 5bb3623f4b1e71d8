"""Identity test helpers: a real SMTP server on loopback, people with accounts, a CSRF-enforcing browser."""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pyotp
import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from flomation.identity import introspection
from flomation.identity.models import User
from flomation.identity.services import accounts, mfa

PASSWORD = "plum-orchard-lantern-1947"
LINK = re.compile(r"https?://[^\s/]+(/identity/(?:verify|reset)/[A-Za-z0-9_-]+)")


@dataclass
class Mailbox:
    """What the loopback SMTP server received."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def for_address(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address in m["To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> Message:
        """The `count`-th message to `address`, waiting for it to arrive (mail is sent in the background)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.for_address(address)
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.02)
        raise AssertionError(f"no message #{count} for {address} within {timeout}s")

    def link_in(self, message: Message) -> str:
        """The path of the identity link in a message (the host part is the configured IDENTITY_URL)."""
        body = message.get_payload(decode=True).decode()
        match = LINK.search(body)
        assert match, body
        return match.group(1)


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 with Django's SMTP backend pointed at it."""
    box = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.NOTIFICATIONS_ENABLED = True
    settings.DEFAULT_FROM_EMAIL = "sentinel@flomation.test"
    yield box
    controller.stop()


@pytest.fixture(autouse=True)
def _fresh_introspection_cache() -> Iterator[None]:
    introspection.cache_clear()
    yield
    introspection.cache_clear()


@pytest.fixture
def browser() -> Client:
    """A test client that enforces CSRF like a real browser session would need to."""
    return Client(enforce_csrf_checks=True)


def csrf_from(client: Client, path: str = "/identity/reset") -> str:
    """Loads a page with a form and returns the CSRF token it carries."""
    response = client.get(path)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, response.content.decode()[:500]
    return match.group(1)


def post_form(client: Client, path: str, data: dict[str, Any], form_page: str | None = None, **extra: Any):
    """Posts a form the way a browser does: with the CSRF token of the page the form came from."""
    token = csrf_from(client, form_page or "/identity/reset")
    return client.post(path, {"csrfmiddlewaretoken": token, **data}, **extra)


@dataclass
class Person:
    user: User
    password: str
    totp: pyotp.TOTP | None = None
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def email(self) -> str:
        return self.user.email


@pytest.fixture
def make_person(db: Any):
    """make_person(email=..., mfa=False) -> a verified account with a password (and TOTP when mfa)."""

    def make(email: str = "ada@example.test", *, mfa_on: bool = False, admin: bool = False) -> Person:
        user, _ = accounts.admin_create(email=email, password=PASSWORD)
        if not admin:
            user.is_staff = user.is_superuser = False
            user.save(update_fields=["is_staff", "is_superuser"])
        person = Person(user=user, password=PASSWORD)
        if mfa_on:
            seed = mfa.totp_enrol_start(user=user)
            person.totp = pyotp.TOTP(seed)
            # Confirmed with the previous step's code, so the current and next codes are still unused.
            person.recovery_codes = mfa.totp_enrol_confirm(user=user, code=person.totp.at(time.time() - 30))
            user.refresh_from_db()
        return person

    return make


def next_code(totp: pyotp.TOTP, steps_ahead: int = 1) -> str:
    """A code for a later time step: valid now (one step of drift is allowed) and not yet used."""
    return totp.at(time.time() + 30 * steps_ahead)


def log_in(client: Client, person: Person, code: str | None = None, **extra: Any):
    """Logs in through the pages; returns the final response (a redirect with the cookie on success)."""
    response = post_form(
        client, "/identity/login", {"email": person.email, "password": person.password}, **extra
    )
    if person.totp is None or response.status_code != 200 or b'name="ticket"' not in response.content:
        return response
    ticket = re.search(r'name="ticket" value="([^"]+)"', response.content.decode()).group(1)
    return post_form(client, "/identity/login/code", {"ticket": ticket, "code": code or person.totp.now()})
