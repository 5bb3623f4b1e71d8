"""Password reset by email: single use, 30 minutes, asks for the code when MFA is on, ends every session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from flomation.identity.models import EmailLink, Session
from flomation.identity.services.sessions import session_create
from tests.identity.conftest import log_in, next_code, post_form

pytestmark = pytest.mark.django_db
NEW = "violet-lighthouse-morning-88"


def _ask(browser, address: str):
    return post_form(browser, "/identity/reset", {"email": address}, form_page="/identity/reset")


def _set(browser, path: str, password: str = NEW, code: str = ""):
    return post_form(browser, path, {"password": password, "password_again": password, "code": code})


def test_a_user_resets_a_forgotten_password_by_email_and_is_logged_in(
    browser, mailbox, make_person, settings
):
    person = make_person()
    _, old_token = session_create(user=person.user)
    assert b"Check your email" in _ask(browser, person.email).content
    link = mailbox.link_in(mailbox.wait_for(person.email))
    assert b"Choose a new password" in browser.get(link).content
    done = _set(browser, link)
    assert done.status_code == 302 and done.cookies[settings.AUTH_COOKIE_NAME].value
    assert Client().get("/identity/api/user", HTTP_AUTHORIZATION=f"Bearer {old_token}").status_code == 401
    person.password = NEW
    assert log_in(Client(), person).status_code == 302


def test_asking_for_a_reset_gives_the_same_answer_for_an_unknown_address(browser, mailbox, make_person):
    person = make_person()
    known = _ask(browser, person.email).content.decode().replace(person.email, "X")
    unknown = _ask(browser, "nobody@example.test").content.decode().replace("nobody@example.test", "X")
    assert known == unknown
    mailbox.wait_for(person.email)
    with pytest.raises(AssertionError):
        mailbox.wait_for("nobody@example.test", timeout=0.5)


def test_a_reset_link_works_once(browser, mailbox, make_person):
    person = make_person()
    _ask(browser, person.email)
    link = mailbox.link_in(mailbox.wait_for(person.email))
    assert _set(browser, link).status_code == 302
    reused = _set(browser, link, password="another-fresh-password-9")
    assert reused.status_code == 400 and b"already been used" in reused.content


def test_a_reset_link_expires_after_30_minutes(browser, mailbox, make_person):
    person = make_person()
    _ask(browser, person.email)
    link = mailbox.link_in(mailbox.wait_for(person.email))
    row = EmailLink.objects.get(purpose=EmailLink.Purpose.RESET)
    assert row.expires_at - row.created_at == timedelta(minutes=30)
    EmailLink.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _set(browser, link).status_code == 400


def test_a_tampered_reset_link_is_refused(browser, mailbox, make_person):
    person = make_person()
    _ask(browser, person.email)
    link = mailbox.link_in(mailbox.wait_for(person.email))
    assert browser.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB")).status_code == 400
    assert browser.get("/identity/reset/" + "x" * 200).status_code == 400


def test_a_reset_still_asks_for_the_code_when_mfa_is_on(browser, mailbox, make_person):
    person = make_person(mfa_on=True)
    _ask(browser, person.email)
    link = mailbox.link_in(mailbox.wait_for(person.email))
    assert b"authenticator app" in browser.get(link).content
    assert _set(browser, link).status_code == 401
    assert _set(browser, link, code="000000").status_code == 401
    assert _set(browser, link, code=next_code(person.totp)).status_code == 302


def test_too_many_wrong_codes_use_a_reset_link_up(browser, mailbox, make_person):
    person = make_person(mfa_on=True)
    _ask(browser, person.email)
    link = mailbox.link_in(mailbox.wait_for(person.email))
    for _ in range(EmailLink.MAX_CODE_ATTEMPTS):
        _set(browser, link, code="000000")
    assert _set(browser, link, code=next_code(person.totp)).status_code == 400


def test_the_owner_of_a_throttled_account_gets_back_in_through_a_reset(browser, mailbox, make_person):
    person = make_person()
    for n in range(10):
        post_form(browser, "/identity/login", {"email": person.email, "password": f"attacker-guess-{n}"})
    assert log_in(browser, person).status_code == 429
    _ask(browser, person.email)
    assert _set(browser, mailbox.link_in(mailbox.wait_for(person.email))).status_code == 302
    person.password = NEW
    assert log_in(Client(), person).status_code == 302


def test_reset_emails_are_limited_per_account_and_hour(browser, mailbox, make_person):
    person = make_person()
    for _ in range(7):
        assert _ask(browser, person.email).status_code == 200
    mailbox.wait_for(person.email, count=5)
    with pytest.raises(AssertionError):
        mailbox.wait_for(person.email, count=6, timeout=1.0)
    assert Session.objects.count() == 0
