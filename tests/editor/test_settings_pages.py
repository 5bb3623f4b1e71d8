"""Settings: environments with variables and write-only secrets, queues, runners, members, tokens, account."""

from __future__ import annotations

import pytest

from flomation.core import models as m
from flomation.lib import crypto
from tests.core import factories as f

pytestmark = pytest.mark.django_db


def test_variables_and_secrets_are_set_and_the_secret_never_shown(team, browser_for):
    client = browser_for("owner")
    env = team.organisation.environments.get(name="staging")
    client.post(
        f"/settings/environments/{env.id}/variables/set", {"name": "API_BASE", "value": "https://x.test"}
    )
    client.post(f"/settings/environments/{env.id}/secrets/set", {"name": "API_KEY", "value": "s3cr3t-value"})
    page = client.get("/settings/environments")
    assert b"API_BASE" in page.content and b"https://x.test" in page.content
    assert b"API_KEY" in page.content and b"s3cr3t-value" not in page.content
    canvas_refs = client.get("/manifest.json")  # the canvas offers names only
    assert b"s3cr3t-value" not in canvas_refs.content
    client.post(f"/settings/environments/{env.id}/secrets/delete", {"name": "API_KEY"})
    assert not m.Secret.objects.filter(environment=env).exists()


def test_a_bad_variable_name_is_explained(team, browser_for):
    env = team.organisation.environments.get(name="development")
    response = browser_for("owner").post(
        f"/settings/environments/{env.id}/variables/set", {"name": "1 bad", "value": "x"}
    )
    assert response.status_code == 400
    assert b"error-message" in response.content


def test_members_cannot_change_environments(team, browser_for):
    env = team.organisation.environments.get(name="development")
    response = browser_for("member").post(
        f"/settings/environments/{env.id}/variables/set", {"name": "A", "value": "x"}
    )
    assert response.status_code == 403
    assert b"Save variable" not in browser_for("member").get("/settings/environments").content


def test_queues_are_created_their_code_copied_and_rotated(team, browser_for):
    client = browser_for("owner")
    assert client.post("/settings/queues/new", {"name": "on-prem"}).status_code == 302
    queue = m.Queue.objects.get(organisation=team.organisation, name="on-prem")
    page = client.get("/settings/queues")
    code = crypto.decrypt(
        __import__("django.conf").conf.settings.FLOMATION_ENCRYPTION_KEYS, queue.registration_code_ciphertext
    )
    assert b"on-prem" in page.content and code.encode() not in page.content
    assert client.get(f"/settings/queues/{queue.id}/code").json()["code"] == code
    client.post(f"/settings/queues/{queue.id}/rotate")
    assert client.get(f"/settings/queues/{queue.id}/code").json()["code"] != code
    assert browser_for("member").get(f"/settings/queues/{queue.id}/code").status_code == 403
    duplicate = client.post("/settings/queues/new", {"name": "on-prem"})
    assert duplicate.status_code in (400, 409)


def test_runners_show_their_state_and_can_be_disabled(team, browser_for):
    queue = f.QueueFactory(organisation=team.organisation) if hasattr(f, "QueueFactory") else None
    if queue is None:
        from flomation.core.services.queues import queue_create

        queue = queue_create(organisation=team.organisation, name="q")[0]
    runner = m.Runner.objects.create(queue=queue, name="box-1", public_key="-", version="1.2.3")
    client = browser_for("owner")
    page = client.get("/settings/runners")
    assert b"box-1" in page.content and b"1.2.3" in page.content and b"never_seen" in page.content
    client.post(f"/settings/runners/{runner.id}/enabled", {"enabled": "0"})
    runner.refresh_from_db()
    assert runner.enabled is False
    assert b"disabled" in client.get("/settings/runners").content


def test_members_are_invited_and_their_roles_changed(team, browser_for):
    client = browser_for("owner")
    response = client.post("/settings/members/invite", {"email": "new@example.test", "role": "member"})
    assert response.status_code == 302
    page = client.get("/settings/members")
    assert b"new@example.test" in page.content and b"/welcome?invitation=" in page.content
    client.post("/settings/members/role", {"account": str(team.member.id), "role": "viewer"})
    assert m.Membership.objects.get(organisation=team.organisation, account=team.member).role == "viewer"
    last_owner = client.post("/settings/members/remove", {"account": str(team.owner.id)})
    assert last_owner.status_code == 409
    assert b"at least one owner" in last_owner.content


def test_personal_api_tokens_are_shown_once_and_revoked(team, browser_for):
    client = browser_for("member")
    client.post("/settings/tokens/create", {"name": "CI", "days": "30"})
    first = client.get("/settings/tokens")
    token = m.ApiToken.objects.get(account=team.member)
    assert token.prefix.encode() in first.content
    assert b'id="new-token" readonly value="flo_' in first.content
    later = client.get("/settings/tokens")
    assert token.prefix.encode() in later.content and b'id="new-token"' not in later.content
    client.post("/settings/tokens/revoke", {"token": str(token.id)})
    token.refresh_from_db()
    assert token.revoked_at is not None
    too_long = client.post("/settings/tokens/create", {"name": "CI", "days": "9999"})
    assert too_long.status_code == 400


def test_a_person_can_revoke_only_their_own_tokens_of_this_organisation(team, browser_for):
    from flomation.core.services.tokens import api_token_create

    owners, _ = api_token_create(account=team.owner, organisation=team.organisation, name="owner's CI")
    mine, _ = api_token_create(account=team.member, organisation=team.organisation, name="my CI")
    client = browser_for("member")
    listed = client.get("/settings/tokens")
    assert b"my CI" in listed.content and b"owner&#x27;s CI" not in listed.content
    refused = client.post("/settings/tokens/revoke", {"token": str(owners.id)})
    assert refused.status_code == 404 and b"does not exist or is already revoked" in refused.content
    owners.refresh_from_db()
    assert owners.revoked_at is None
    assert client.post("/settings/tokens/revoke", {"token": str(mine.id)}).status_code == 302
    again = client.post("/settings/tokens/revoke", {"token": str(mine.id)})
    assert again.status_code == 404 and b"already revoked" in again.content
    assert client.post("/settings/tokens/revoke", {"token": "nonsense"}).status_code == 404


def test_account_page_links_to_identitys_mfa_and_sessions(team, browser_for):
    page = browser_for("viewer").get("/settings/account")
    assert b"/identity/mfa" in page.content and b"/identity/sessions" in page.content


def test_the_platforms_shared_runner_is_shown_to_an_organisation_that_uses_it(team, browser_for):
    from flomation.core.services.queues import queue_shared

    m.Runner.objects.create(queue=queue_shared(), name="built-in", public_key="-", version="9.9.9")
    m.Organisation.objects.filter(id=team.organisation.id).update(accept_shared_runners=True)
    page = browser_for("owner").get("/settings/runners").content.decode()
    assert "Shared runners" in page and "built-in" in page and "9.9.9" in page
    assert "your flows run on the platform&#x27;s shared runners" in page or "shared runners below" in page
    assert "/settings/runners/" not in page.split("Shared runners")[1]  # nothing to disable there

    m.Organisation.objects.filter(id=team.organisation.id).update(accept_shared_runners=False)
    assert "built-in" not in browser_for("owner").get("/settings/runners").content.decode()
