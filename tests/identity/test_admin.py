"""The operators' side: create_admin on first start, and identity's tables in the Django admin."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from flomation.identity.models import User
from flomation.identity.services.sessions import session_create
from tests.identity.conftest import PASSWORD, Person, log_in

pytestmark = pytest.mark.django_db
swapped = pytest.mark.skipif(
    settings.AUTH_USER_MODEL != "identity.User", reason="needs AUTH_USER_MODEL = 'identity.User'"
)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("create_admin", *args, stdout=out)
    return out.getvalue()


def test_create_admin_makes_a_verified_admin_and_prints_a_generated_password_once():
    output = _run("--email", "Ops@Example.test")
    password = re.search(r"Password \(shown only now\): (\S+)", output).group(1)
    assert len(password) >= 20
    admin = User.objects.get(email="ops@example.test")
    assert admin.is_staff and admin.is_superuser and admin.email_verified_at
    assert admin.check_password(password)
    again = _run("--email", "ops@example.test")
    assert "exists already" in again and "Password" not in again
    assert User.objects.get(email="ops@example.test").check_password(password)


def test_create_admin_reads_the_password_from_a_file(tmp_path, browser):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    output = _run("--email", "ops@example.test", "--password-file", str(secret))
    assert PASSWORD not in output
    admin = User.objects.get(email="ops@example.test")
    assert admin.check_password(PASSWORD)
    assert log_in(browser, Person(user=admin, password=PASSWORD)).status_code == 302


def test_create_admin_refuses_a_weak_password_and_a_bad_address(tmp_path):
    weak = tmp_path / "weak"
    weak.write_text("password\n")
    with pytest.raises(CommandError, match="at least 12 characters"):
        _run("--email", "ops@example.test", "--password-file", str(weak))
    with pytest.raises(CommandError, match="valid email address"):
        _run("--email", "not-an-address")
    with pytest.raises(CommandError, match="Cannot read"):
        _run("--email", "ops@example.test", "--password-file", str(tmp_path / "missing"))
    assert not User.objects.exists()


def test_the_first_admin_made_by_create_admin_means_sign_up_makes_ordinary_accounts(browser):
    _run("--email", "ops@example.test")
    from tests.identity.conftest import post_form

    page = post_form(browser, "/identity/authenticate", {"email": "new@example.test"})
    assert b"No account exists" not in page.content


@swapped
def test_an_operator_logs_in_to_the_admin_and_sees_identitys_tables():
    admin = User.objects.create_superuser("ops@example.test", PASSWORD)
    client = Client()
    assert log_in(client, Person(user=admin, password=PASSWORD)).status_code == 302
    for model in ["user", "session", "emaillink", "totpdevice", "recoverycode", "loginfailure"]:
        page = client.get(f"/admin/identity/{model}/", {"q": "ops"})
        assert page.status_code == 200, model
    assert client.get(f"/admin/identity/user/{admin.pk}/change/").status_code == 200
    device_list = client.get("/admin/identity/totpdevice/").content
    assert b"secret_ciphertext" not in device_list


@swapped
def test_the_admin_can_end_sessions_in_bulk():
    admin = User.objects.create_superuser("ops@example.test", PASSWORD)
    session, _ = session_create(user=admin)
    client = Client()
    assert log_in(client, Person(user=admin, password=PASSWORD)).status_code == 302
    response = client.post(
        "/admin/identity/session/", {"action": "revoke", "_selected_action": [str(session.pk)]}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.revoked_at is not None


def test_prune_identity_deletes_stale_sign_ups_and_ended_sessions_but_keeps_live_ones(make_person):
    from datetime import timedelta

    from django.utils import timezone

    from flomation.identity.models import Session

    person = make_person()
    live, _ = session_create(user=person.user)
    ended, _ = session_create(user=person.user)
    Session.objects.filter(pk=ended.pk).update(expires_at=timezone.now() - timedelta(days=31))
    stale = User.objects.create_user("never@example.test")
    User.objects.filter(pk=stale.pk).update(date_joined=timezone.now() - timedelta(days=8))
    fresh = User.objects.create_user("soon@example.test")
    out = StringIO()
    call_command("prune_identity", stdout=out)
    assert "1 sessions" in out.getvalue() and "1 unverified sign-ups" in out.getvalue()
    assert set(Session.objects.values_list("pk", flat=True)) == {live.pk}
    assert set(User.objects.values_list("pk", flat=True)) == {person.user.pk, fresh.pk}
