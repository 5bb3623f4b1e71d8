"""A person's personal API tokens (`flo_...`) stop at once when the account is deactivated or its password
is changed or reset: the attack replays the old token against a real server."""

from __future__ import annotations

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from flomation.core.models import ApiToken
from flomation.core.services.tokens import api_token_create
from flomation.identity.models import User
from tests.core import factories as f
from tests.identity.browser import HttpBrowser

NEW = "violet-lighthouse-morning-88"


@pytest.fixture
def server(live_server, transactional_db):
    return live_server


@pytest.fixture
def holder(server, make_person):
    """A member of an organisation with a personal API token for it, and a way to use the token."""
    person = make_person()
    account = f.AccountFactory(id=person.user.id, email=person.email)
    membership = f.MembershipFactory(account=account)

    class Holder:
        def __init__(self) -> None:
            self.person = person
            self.organisation = membership.organisation
            self.token = self.new_token()

        def new_token(self) -> str:
            return api_token_create(account=account, organisation=self.organisation, name="ci")[1]

        def call(self, token: str | None = None) -> requests.Response:
            return requests.get(
                f"{server.url}/api/v1/organisations/{self.organisation.id}/",
                headers={"Authorization": f"Bearer {token or self.token}"},
                timeout=30,
            )

    holder = Holder()
    assert holder.call().status_code == 200
    return holder


def test_a_deactivated_accounts_token_is_refused_at_once_and_stays_revoked(holder, caplog):
    user = User.objects.get(id=holder.person.user.id)
    user.is_active = False
    user.save()
    refused = holder.call()
    assert refused.status_code == 401
    assert "not valid" in refused.json()["detail"]
    user.is_active = True
    user.save()
    assert holder.call().status_code == 401
    assert ApiToken.objects.get().revoked_at is not None
    assert holder.token not in caplog.text


def test_a_token_is_refused_while_its_owner_is_deactivated_behind_the_products_back(holder, caplog):
    User.objects.filter(id=holder.person.user.id).update(is_active=False)
    assert holder.call().status_code == 401
    warnings = [r for r in caplog.records if "deactivated" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert str(holder.organisation.id) in warnings[0].getMessage()
    assert holder.token not in caplog.text


def test_a_password_change_through_the_account_page_stops_the_token(holder, server):
    browser = HttpBrowser(server.url)
    assert browser.log_in(holder.person.email, holder.person.password).status_code == 302
    changed = browser.post_form(
        "/identity/account/password",
        {"current_password": holder.person.password, "password": NEW, "password_again": NEW},
        form_page="/identity/account",
    )
    assert changed.status_code == 302 and changed.headers["Location"].endswith("done=password")
    assert holder.call().status_code == 401
    assert ApiToken.objects.get().revoked_at is not None
    assert holder.call(holder.new_token()).status_code == 200  # a token made afterwards works


def test_a_password_reset_by_email_stops_the_token(holder, server, mailbox, settings):
    browser = HttpBrowser(server.url)
    asked = browser.post_form("/identity/reset", {"email": holder.person.email}, form_page="/identity/reset")
    assert asked.status_code == 200
    link = mailbox.link_in(mailbox.wait_for(holder.person.email))
    done = browser.post_form(link, {"password": NEW, "password_again": NEW, "code": ""}, form_page=link)
    assert done.status_code == 302 and settings.AUTH_COOKIE_NAME in done.cookies
    assert holder.call().status_code == 401


def test_a_token_older_than_a_password_set_behind_the_products_back_is_refused(holder):
    User.objects.filter(id=holder.person.user.id).update(
        password=make_password(NEW), password_changed_at=timezone.now()
    )
    assert holder.call().status_code == 401
    assert ApiToken.objects.get().revoked_at is not None
