"""Identity's events reach the platform's audit chain through its `audited` signal: one entry each, done by
the user, never carrying a password, a code or a token."""

from __future__ import annotations

import json
import time

import pyotp
import pytest

from flomation.core.models import AuditEntry
from flomation.core.services.audit import audit_verify
from flomation.identity.services import accounts, mfa
from tests.identity.conftest import PASSWORD, log_in, next_code

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-harbour-compass-2231"


def _after(baseline: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(id__gt=baseline).order_by("id"))


def _baseline() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _clean(entry: AuditEntry, *secrets: str) -> None:
    text = json.dumps([entry.summary, entry.actor_label, entry.target_id, list(entry.target_ids)])
    for secret in secrets:
        assert secret not in text


def test_turning_mfa_on_and_off_and_new_recovery_codes_each_leave_one_entry(make_person):
    person = make_person()
    user = person.user
    seed = mfa.totp_enrol_start(user=user)
    totp = pyotp.TOTP(seed)
    steps = [
        ("mfa.enabled", lambda: mfa.totp_enrol_confirm(user=user, code=totp.at(time.time() - 30))),
        ("mfa.recovery_codes_regenerated", lambda: mfa.recovery_codes_regenerate(user=user, code=totp.now())),
        ("mfa.disabled", lambda: mfa.mfa_disable(user=user, password=PASSWORD, code=next_code(totp))),
    ]
    for action, step in steps:
        baseline = _baseline()
        codes = step() or []
        user.refresh_from_db()
        (entry,) = _after(baseline)
        assert (entry.action, entry.actor_type, entry.actor_id) == (action, "user", str(user.id))
        assert entry.organisation_id is None and entry.actor_label == user.email
        _clean(entry, seed, PASSWORD, *codes)
    assert audit_verify(organisation_id=None).problems == []


def test_a_password_change_is_one_entry_and_no_password(make_person):
    person = make_person()
    baseline = _baseline()
    accounts.password_change(user=person.user, current_password=PASSWORD, new_password=NEW_PASSWORD)
    (entry,) = _after(baseline)
    assert entry.action == "password.changed" and entry.actor_id == str(person.user.id)
    _clean(entry, PASSWORD, NEW_PASSWORD)


def test_a_login_through_the_pages_records_the_address_and_browser(make_person, browser):
    person = make_person()
    baseline = _baseline()
    response = log_in(browser, person, HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    (entry,) = _after(baseline)
    assert (entry.action, entry.target_type, entry.summary) == (
        "login.succeeded",
        "session",
        {"method": "browser"},
    )
    assert (entry.source_ip, entry.user_agent) == ("203.0.113.9", "Firefox/140")
    _clean(entry, PASSWORD)


def test_a_failed_login_for_an_unknown_address_names_the_address_tried(browser, db):
    baseline = _baseline()
    from tests.identity.conftest import post_form

    post_form(browser, "/identity/login", {"email": "nobody@example.test", "password": "wrong-password-123"})
    (entry,) = _after(baseline)
    assert (entry.action, entry.actor_id, entry.actor_label) == ("login.failed", "", "nobody@example.test")
    _clean(entry, "wrong-password-123")
