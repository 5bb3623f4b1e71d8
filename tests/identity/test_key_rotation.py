"""Rotating the encryption key: authenticator seeds move to the new first key and MFA codes keep working."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from flomation.identity.models import TOTPDevice
from flomation.identity.services import encryption_rotate
from flomation.lib import crypto
from tests.identity.conftest import log_in, next_code

pytestmark = pytest.mark.django_db

NEW_KEY = Fernet.generate_key().decode()


def test_after_rotation_mfa_codes_verify_and_seeds_are_under_the_new_key(make_person, browser, settings):
    people = [make_person(f"p{n}@example.test", mfa_on=True) for n in range(3)]
    before = {d.pk: d.secret_ciphertext for d in TOTPDevice.objects.all()}
    settings.FLOMATION_ENCRYPTION_KEYS = [NEW_KEY, *settings.FLOMATION_ENCRYPTION_KEYS]
    out = io.StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "2", stdout=out)
    assert "identity: 3 re-encrypted" in out.getvalue()
    for device in TOTPDevice.objects.all():
        assert device.secret_ciphertext != before[device.pk]
        assert crypto.encrypted_with_primary([NEW_KEY], device.secret_ciphertext)
    settings.FLOMATION_ENCRYPTION_KEYS = [NEW_KEY]  # the old keys can go now
    for person in people:
        browser.cookies.clear()
        assert log_in(browser, person, code=next_code(person.totp)).status_code == 302, person.email
    wrong = log_in(browser, people[0], code="000000")
    assert wrong.status_code != 302


def test_a_stopped_rotation_resumes_without_redoing_seeds(make_person, settings):
    for n in range(3):
        make_person(f"p{n}@example.test", mfa_on=True)
    settings.FLOMATION_ENCRYPTION_KEYS = [NEW_KEY, *settings.FLOMATION_ENCRYPTION_KEYS]
    batches = encryption_rotate(batch_size=2)
    assert next(batches) == 2  # then "Ctrl-C"
    batches.close()
    first_two = {d.pk: d.secret_ciphertext for d in TOTPDevice.objects.order_by("pk")[:2]}
    assert sum(encryption_rotate(batch_size=2)) == 1
    assert {d.pk: d.secret_ciphertext for d in TOTPDevice.objects.order_by("pk")[:2]} == first_two
    assert sum(encryption_rotate(batch_size=2)) == 0


def test_a_seed_no_key_opens_stops_the_rotation_naming_its_user(make_person, settings):
    person = make_person(mfa_on=True)
    settings.FLOMATION_ENCRYPTION_KEYS = [NEW_KEY]  # the key the seed was written with is gone
    with pytest.raises(crypto.DecryptionError, match=f"user {person.user.id}"):
        sum(encryption_rotate())
