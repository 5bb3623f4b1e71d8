"""Creating an account: email, verification link, password; the first verified account is the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from flomation.identity.models import EmailLink, User
from tests.identity.conftest import PASSWORD, post_form

pytestmark = pytest.mark.django_db


def _register(client, address: str):
    return post_form(client, "/identity/register", {"email": address})


def _set_password(client, path: str, password: str = PASSWORD, again: str | None = None, name: str = ""):
    data = {"password": password, "password_again": again or password, "display_name": name}
    return post_form(client, path, data)


def test_the_first_person_creates_the_first_admin_account_end_to_end(browser, mailbox, settings):
    page = post_form(browser, "/identity/authenticate", {"email": "Founder@Example.test"})
    assert page.status_code == 200
    assert b"No account exists on this platform yet" in page.content
    assert b"Create account" in page.content

    answer = _register(browser, "Founder@Example.test")
    assert answer.status_code == 200
    assert b"Check your email" in answer.content

    message = mailbox.wait_for("founder@example.test")
    assert message["From"] == "sentinel@flomation.test"
    link = mailbox.link_in(message)
    assert len(link.rsplit("/", 1)[1]) >= 43  # 256 random bits, url-safe base64

    form = browser.get(link)
    assert form.status_code == 200 and b"Create your password" in form.content
    done = _set_password(browser, link, name="Founder")
    assert done.status_code == 302
    assert done["Location"] == settings.AUTH_LOGIN_REDIRECT
    assert done.cookies[settings.AUTH_COOKIE_NAME].value

    founder = User.objects.get(email="founder@example.test")
    assert founder.is_staff and founder.is_superuser and founder.email_verified_at
    assert founder.display_name == "Founder"
    assert founder.password.startswith("argon2$argon2id$")
    me = browser.get("/identity/api/user")
    assert me.json() == {"user_id": str(founder.id), "email": founder.email, "display_name": "Founder"}


def test_a_later_account_is_not_an_admin_and_the_password_page_no_longer_says_the_platform_is_empty(
    browser, mailbox, make_person
):
    make_person("first@example.test", admin=True)
    page = post_form(browser, "/identity/authenticate", {"email": "second@example.test"})
    assert b"No account exists" not in page.content and b"Create account" in page.content
    _register(browser, "second@example.test")
    _set_password(browser, mailbox.link_in(mailbox.wait_for("second@example.test")))
    second = User.objects.get(email="second@example.test")
    assert second.email_verified_at and not second.is_staff and not second.is_superuser


def test_a_verification_link_works_only_once(browser, mailbox):
    _register(browser, "once@example.test")
    link = mailbox.link_in(mailbox.wait_for("once@example.test"))
    assert _set_password(browser, link).status_code == 302
    again = browser.get(link)
    assert again.status_code == 400
    assert b"has expired, has already been used, or a newer one was sent" in again.content


def test_a_verification_link_expires_after_24_hours(browser, mailbox):
    _register(browser, "late@example.test")
    link = mailbox.link_in(mailbox.wait_for("late@example.test"))
    row = EmailLink.objects.get(user__email="late@example.test")
    assert row.expires_at - row.created_at == timedelta(hours=24)
    EmailLink.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert browser.get(link).status_code == 400
    assert _set_password(browser, link).status_code == 400
    assert not User.objects.get(email="late@example.test").has_usable_password()


def test_an_older_verification_link_dies_when_a_newer_one_is_sent(browser, mailbox):
    _register(browser, "twice@example.test")
    first = mailbox.link_in(mailbox.wait_for("twice@example.test"))
    _register(browser, "twice@example.test")
    second = mailbox.link_in(mailbox.wait_for("twice@example.test", count=2))
    assert first != second
    assert browser.get(first).status_code == 400
    assert browser.get(second).status_code == 200


def test_registering_a_known_address_gives_the_same_answer_and_mails_the_owner_a_reset_link(
    browser, mailbox, make_person
):
    owner = make_person("owner@example.test")
    known = _register(browser, owner.email)
    unknown = _register(browser, "stranger@example.test")
    assert known.status_code == unknown.status_code == 200
    assert known.content.replace(b"owner", b"X") == unknown.content.replace(b"stranger", b"X").replace(
        csrf_token_of(unknown), csrf_token_of(known)
    )
    message = mailbox.wait_for(owner.email)
    assert "already exists" in message.get_payload(decode=True).decode()
    assert "/identity/reset/" in mailbox.link_in(message)


def csrf_token_of(response) -> bytes:
    import re

    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)
    return match.group(1) if match else b""


@pytest.mark.parametrize(
    "password,reason",
    [
        ("short-pw-1", b"at least 12 characters"),
        ("password1234", b"too common"),
        ("mismatch-one-two-three", b"The two passwords differ"),
    ],
)
def test_a_weak_password_is_refused_and_the_link_stays_usable(browser, mailbox, password, reason):
    _register(browser, "weak@example.test")
    link = mailbox.link_in(mailbox.wait_for("weak@example.test"))
    again = "something-else-entirely" if reason == b"The two passwords differ" else password
    refused = _set_password(browser, link, password=password, again=again)
    assert refused.status_code == 400
    assert reason in refused.content
    assert _set_password(browser, link).status_code == 302


@pytest.mark.parametrize(
    "address", ["not-an-email", "a@b", "x@@example.test", "", "a" * 250 + "@example.test"]
)
def test_a_malformed_address_is_refused_with_a_clear_message(browser, mailbox, address):
    page = post_form(browser, "/identity/authenticate", {"email": address})
    assert page.status_code == 400
    assert b"valid email address" in page.content or b"Email:" in page.content
    assert _register(browser, address).status_code == 400
    assert not User.objects.exists()


def test_no_email_is_sent_when_notifications_are_disabled(browser, mailbox, settings):
    settings.NOTIFICATIONS_ENABLED = False
    answer = _register(browser, "quiet@example.test")
    assert answer.status_code == 200
    with pytest.raises(AssertionError):
        mailbox.wait_for("quiet@example.test", timeout=1.0)


def test_registration_needs_the_csrf_token(browser, mailbox):
    refused = browser.post("/identity/register", {"email": "forged@example.test"})
    assert refused.status_code == 403
    assert not User.objects.filter(email="forged@example.test").exists()
