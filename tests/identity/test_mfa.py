"""Two-factor authentication: enrolment with a QR code, login codes used once, recovery codes, turning off."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.conf import settings

from flomation.identity.models import RecoveryCode, TOTPDevice
from flomation.lib import crypto
from tests.identity.conftest import log_in, next_code, post_form

pytestmark = pytest.mark.django_db


def _enrol(browser) -> tuple[pyotp.TOTP, list[str]]:
    post_form(browser, "/identity/mfa/enrol", {}, form_page="/identity/mfa")
    page = browser.get("/identity/mfa").content.decode()
    assert "<svg" in page  # the QR code, inline
    seed = re.search(r'<code class="seed">([A-Z2-7]+)</code>', page).group(1)
    totp = pyotp.TOTP(seed)
    done = post_form(browser, "/identity/mfa/confirm", {"code": totp.now()}, form_page="/identity/mfa")
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([A-Z0-9-]{19})</code></li>", done.content.decode())
    return totp, codes


def test_a_user_turns_on_mfa_by_scanning_a_qr_code_and_gets_ten_recovery_codes(browser, make_person):
    person = make_person()
    log_in(browser, person)
    totp, codes = _enrol(browser)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert b"is <strong>on</strong>" in browser.get("/identity/mfa").content
    stored = RecoveryCode.objects.filter(user=person.user)
    assert stored.count() == 10
    assert not any(code.replace("-", "") in row.code_hash for code in codes for row in stored)


def test_the_totp_seed_is_encrypted_at_rest_with_the_project_keys(browser, make_person):
    person = make_person(mfa_on=True)
    device = TOTPDevice.objects.get(user=person.user)
    assert person.totp.secret not in device.secret_ciphertext
    assert crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, device.secret_ciphertext) == person.totp.secret
    # Rotation: a seed written under the second key still opens with the key set.
    old = crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS[1:], person.totp.secret)
    TOTPDevice.objects.filter(pk=device.pk).update(secret_ciphertext=old)
    assert log_in(browser, person, code=next_code(person.totp)).status_code == 302


def test_a_wrong_enrolment_code_leaves_mfa_off(browser, make_person):
    person = make_person()
    log_in(browser, person)
    post_form(browser, "/identity/mfa/enrol", {}, form_page="/identity/mfa")
    refused = post_form(browser, "/identity/mfa/confirm", {"code": "123456"}, form_page="/identity/mfa")
    assert refused.status_code == 401 and b"wrong or has already been used" in refused.content
    person.user.refresh_from_db()
    assert not person.user.mfa_enabled


def test_login_asks_for_the_code_after_the_password_and_accepts_each_code_once(
    browser, make_person, settings
):
    person = make_person(mfa_on=True)
    step_two = post_form(browser, "/identity/login", {"email": person.email, "password": person.password})
    assert step_two.status_code == 200 and b"Enter your code" in step_two.content
    assert "flomation-token" not in step_two.cookies
    code = next_code(person.totp)
    assert log_in(browser, person, code=code).status_code == 302
    replay = log_in(browser, person, code=code)
    assert replay.status_code == 401 and b"already been used" in replay.content
    assert log_in(browser, person, code="000000").status_code == 401


def test_an_old_code_is_refused_once_a_newer_one_was_used(browser, make_person):
    person = make_person(mfa_on=True)
    assert log_in(browser, person, code=next_code(person.totp, 1)).status_code == 302
    assert log_in(browser, person, code=person.totp.now()).status_code == 401


def test_a_code_from_far_outside_the_time_window_is_refused(browser, make_person):
    person = make_person(mfa_on=True)
    assert log_in(browser, person, code=next_code(person.totp, 3)).status_code == 401
    assert log_in(browser, person, code=next_code(person.totp, -3)).status_code == 401


def test_a_recovery_code_logs_in_once(browser, make_person):
    person = make_person()
    log_in(browser, person)
    totp, codes = _enrol(browser)
    person.totp = totp
    assert log_in(browser, person, code=codes[0].lower()).status_code == 302
    assert log_in(browser, person, code=codes[0]).status_code == 401
    assert log_in(browser, person, code=codes[1].replace("-", " ")).status_code == 302


def _ticket(browser, person) -> str:
    page = post_form(browser, "/identity/login", {"email": person.email, "password": person.password})
    return re.search(r'name="ticket" value="([^"]+)"', page.content.decode()).group(1)


def test_a_forged_expired_or_outdated_login_ticket_is_refused(browser, make_person, settings):
    person = make_person(mfa_on=True)
    forged = post_form(
        browser, "/identity/login/code", {"ticket": "eyJ1IjoiYWJjIn0:forged:sig", "code": "123456"}
    )
    assert forged.status_code == 400 and b"Start again" in forged.content

    ticket = _ticket(browser, person)
    settings.IDENTITY_MFA_TICKET_LIFETIME = -1
    expired = post_form(browser, "/identity/login/code", {"ticket": ticket, "code": person.totp.now()})
    assert expired.status_code == 400 and b"Start again" in expired.content

    del settings.IDENTITY_MFA_TICKET_LIFETIME
    ticket = _ticket(browser, person)
    person.user.set_password("a-brand-new-password-77")
    person.user.save()
    outdated = post_form(browser, "/identity/login/code", {"ticket": ticket, "code": person.totp.now()})
    assert outdated.status_code == 400 and "flomation-token" not in outdated.cookies


def test_wrong_codes_count_towards_the_login_throttle(browser, make_person):
    person = make_person(mfa_on=True)
    for _ in range(10):
        log_in(browser, person, code="000000")
    throttled = post_form(browser, "/identity/login", {"email": person.email, "password": person.password})
    assert throttled.status_code == 429


def test_mfa_is_turned_off_only_with_the_password_and_a_code(browser, make_person):
    person = make_person(mfa_on=True)
    log_in(browser, person)
    wrong = post_form(
        browser,
        "/identity/mfa/disable",
        {"password": "not-my-password", "code": next_code(person.totp)},
        form_page="/identity/mfa",
    )
    assert wrong.status_code == 401
    done = post_form(
        browser,
        "/identity/mfa/disable",
        {"password": person.password, "code": next_code(person.totp)},
        form_page="/identity/mfa",
    )
    assert done.status_code == 302
    person.user.refresh_from_db()
    assert not person.user.mfa_enabled and not RecoveryCode.objects.filter(user=person.user).exists()
    person.totp = None
    assert log_in(browser, person).status_code == 302


def test_recovery_codes_can_be_replaced_with_a_current_code(browser, make_person):
    person = make_person(mfa_on=True)
    log_in(browser, person)
    old = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    page = post_form(
        browser,
        "/identity/mfa/recovery-codes",
        {"code": person.recovery_codes[0]},
        form_page="/identity/mfa",
    )
    assert page.status_code == 200 and b"Your recovery codes" in page.content
    assert old.isdisjoint(RecoveryCode.objects.values_list("code_hash", flat=True))
