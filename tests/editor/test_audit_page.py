"""Settings → Audit: owners read the organisation's log with filters, page back through it and export it
as CSV or JSON; members without the permission neither see the link nor the page."""

from __future__ import annotations

import csv
import io
import json

import pytest

from flomation.core import models as m
from flomation.core.services.members import group_save

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-value-for-the-page"


@pytest.fixture
def changes(team, browser_for):
    """Changes made through the editor's own settings pages, so they carry the owner and the member."""
    env = team.organisation.environments.get(name="staging")
    owner = browser_for("owner")
    owner.post(f"/settings/environments/{env.id}/secrets/set", {"name": "API_KEY", "value": SECRET})
    owner.post(f"/settings/environments/{env.id}/variables/set", {"name": "BASE", "value": "https://x"})
    owner.post("/settings/queues/new", {"name": "on-prem"})
    return owner


def shown(action: str) -> str:
    """How the page shows an entry's action (the filter's placeholder names actions too)."""
    return f"<code>{action}</code>"


def test_the_owner_reads_the_log_with_who_what_and_where(team, changes):
    page = changes.get("/settings/audit")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/settings/audit" aria-current="page"' in html
    for action in ("secret.set", "variable.set", "queue.created"):
        assert shown(action) in html
    assert team.owner.email in html and "127.0.0.1" in html and SECRET not in html


def test_the_filters_narrow_the_list(team, changes):
    html = changes.get("/settings/audit", {"action": "secret.*"}).content.decode()
    assert (
        shown("secret.set") in html
        and shown("variable.set") not in html
        and shown("queue.created") not in html
    )
    assert 'value="secret.*"' in html
    assert (
        "No audit entries match" in changes.get("/settings/audit", {"actor": "nobody@else"}).content.decode()
    )
    refused = changes.get("/settings/audit", {"since": "last week"})
    assert refused.status_code == 400 and b"ISO 8601" in refused.content


def test_older_entries_are_a_page_further(team, changes):
    first = changes.get("/settings/audit", {"limit": "2"}).content.decode()
    assert "cursor=" in first and shown("queue.created") in first and shown("secret.set") not in first
    cursor = first.split("cursor=")[1].split('"')[0]
    older = changes.get("/settings/audit", {"limit": "2", "cursor": cursor}).content.decode()
    assert shown("secret.set") in older and shown("queue.created") not in older


def test_the_log_exports_as_csv_and_json_with_the_same_filters(team, changes):
    exported = changes.get("/settings/audit/export", {"format": "csv", "action": "secret.set"})
    assert exported["Content-Type"].startswith("text/csv") and "attachment" in exported["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0][:5] == ["id", "at", "actor_type", "actor", "action"]
    assert [(r[3], r[4], r[6]) for r in rows[1:]] == [(team.owner.email, "secret.set", "API_KEY")]
    documents = json.loads(changes.get("/settings/audit/export", {"format": "json"}).content)
    assert [d["action"] for d in documents] == ["queue.created", "variable.set", "secret.set"]
    assert all(d["organisation"] == str(team.organisation.id) for d in documents)
    assert SECRET.encode() not in exported.content
    assert changes.get("/settings/audit/export", {"format": "xml"}).status_code == 400


def test_a_member_without_the_permission_sees_neither_link_nor_page(team, changes, browser_for):
    member = browser_for("member")
    assert b'href="/settings/audit"' not in member.get("/settings/tokens").content
    assert member.get("/settings/audit").status_code == 403
    assert member.get("/settings/audit/export", {"format": "csv"}).status_code == 403
    group_save(
        organisation=team.organisation,
        name="auditors",
        permissions=["audit.view"],
        member_ids=[team.member.id],
    )
    assert member.get("/settings/audit").status_code == 200


def test_an_outsider_sees_only_their_own_organisations_log(team, changes, browser_for):
    html = browser_for("outsider").get("/settings/audit").content.decode()
    assert shown("secret.set") not in html and "Elsewhere" in html
    assert not m.AuditEntry.objects.filter(organisation_id=team.other_organisation.id).exists()
