"""The audit log is tamper-evident (audit_verify names the first rewritten entry), readable only by those
allowed, filterable and paged through the API, pruned by whole prefixes, and streamed for a SIEM."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from flomation.core import models as m
from flomation.core.models.audit import AuditEntryImmutable
from flomation.core.services.audit import audit_prune, audit_verify
from flomation.core.services.members import group_save
from flomation.core.services.secrets import secret_set, variable_set
from flomation.lib.audit_context import Actor, bound

pytestmark = pytest.mark.django_db

SECRET = "never-in-the-log-7f3a"


def _entries(organisation: m.Organisation) -> list[m.AuditEntry]:
    return list(m.AuditEntry.objects.filter(organisation_id=organisation.id).order_by("seq"))


def _tamper(sql: str, entry_id: int) -> None:
    """What someone with database access might do behind the platform's back."""
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=m.AuditEntry._meta.db_table), [entry_id])


def _verify() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except CommandError as failure:
        err.write(str(failure))
    return out.getvalue(), err.getvalue()


@pytest.fixture
def history(cast) -> list[m.AuditEntry]:
    env = cast.environment()
    for number in range(4):
        secret_set(environment=env, name=f"KEY_{number}", value=SECRET)
    return _entries(cast.organisation)


def test_an_untouched_log_verifies(history):
    out, err = _verify()
    assert err == "" and out.startswith("OK: ") and "verify" in out
    assert [e.seq for e in history] == [1, 2, 3, 4]
    assert history[0].prev_hash == "" and all(
        b.prev_hash == a.hash for a, b in zip(history, history[1:], strict=False)
    )


def test_editing_a_row_in_the_database_makes_audit_verify_fail_at_that_row(history):
    target = history[2]
    _tamper('UPDATE {table} SET summary = summary || \'{{"name": "OTHER"}}\' WHERE id = %s', target.id)
    out, err = _verify()
    assert f"entry {target.id} (#3 of organisation {target.organisation_id})" in err
    assert "content does not match its hash" in err and "OK" not in out
    assert audit_verify().problems[0].entry_id == target.id


def test_rehashing_an_edited_row_still_fails_at_the_next_one(history):
    from flomation.core.services.audit.chain import entry_hash

    edited = history[1]
    edited.actor_label = "someone else"
    _tamper(
        f"UPDATE {{table}} SET actor_label = 'someone else', hash = '{entry_hash(edited)}' WHERE id = %s",
        edited.id,
    )
    problem = audit_verify().problems[0]
    assert problem.entry_id == history[2].id and "link to the previous entry" in problem.reason


def test_deleting_a_row_makes_audit_verify_fail_where_the_gap_is(history):
    _tamper("DELETE FROM {table} WHERE id = %s", history[1].id)
    problem = audit_verify().problems[0]
    assert problem.entry_id == history[2].id and "#2 is missing" in problem.reason


def test_the_application_never_changes_or_deletes_an_entry(history):
    entry = history[0]
    entry.action = "secret.deleted"
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    with pytest.raises(AuditEntryImmutable):
        entry.delete()


def test_retention_prunes_a_whole_prefix_records_it_and_the_rest_still_verifies(cast, history):
    later = timezone.now() + timedelta(days=400)
    removed = audit_prune(now=later, retention_days=365)
    left = _entries(cast.organisation)
    # The newest entry stays (new entries link to it) and the prune is recorded after it.
    assert removed == 3 and [e.seq for e in left] == [4, 5]
    prune = left[-1]
    assert prune.action == "audit.pruned" and prune.actor_type == "system"
    assert prune.summary["through_seq"] == 3 and prune.summary["count"] == 3
    assert audit_verify().problems == []
    secret_set(environment=cast.environment(), name="AFTER", value=SECRET)
    assert audit_verify().problems == [] and _entries(cast.organisation)[-1].seq == 6


def test_retention_keeps_entries_younger_than_the_period(cast, history):
    assert audit_prune(retention_days=365) == 0
    assert len(_entries(cast.organisation)) == 4


# --- reading through the API -----------------------------------------------------------------------


def test_an_outsider_cannot_read_another_organisations_entries(cast, as_, history):
    assert as_("outsider").get(cast.url("audit")).status_code == 404
    own = as_("outsider").get(f"/api/v1/organisations/{cast.other_organisation.id}/audit")
    assert own.status_code == 200 and own.json()["results"] == []


def test_reading_needs_audit_view_or_organisation_manage(cast, as_, history):
    assert as_("viewer").get(cast.url("audit")).status_code == 403
    assert as_("member").get(cast.url("audit")).status_code == 403
    group_save(
        organisation=cast.organisation,
        name="auditors",
        permissions=["audit.view"],
        member_ids=[cast.viewer.id],
    )
    answer = as_("viewer").get(cast.url("audit"))
    assert answer.status_code == 200 and len(answer.json()["results"]) == 5  # with the group's creation
    assert as_("owner").get(cast.url("audit")).status_code == 200


@pytest.fixture
def mixed(cast) -> dict[str, object]:
    env = cast.environment()
    owner = Actor("user", id=str(cast.owner.id), label=cast.owner.email, account=str(cast.owner.id))
    member = Actor("user", id=str(cast.member.id), label=cast.member.email, account=str(cast.member.id))
    with bound(actor=owner):
        secret_set(environment=env, name="A", value=SECRET)
        variable_set(environment=env, name="B", value="b")
    with bound(actor=member):
        secret_set(environment=env, name="C", value=SECRET)
    return {"env": env}


def _actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["action"] + ":" + row["target"]["id"] for row in response.json()["results"]]


def test_the_api_filters_by_actor_action_target_and_time(cast, as_, mixed):
    owner = as_("owner")
    base = cast.url("audit")
    everything = _actions(owner.get(base))
    assert everything == ["secret.set:C", "variable.set:B", "secret.set:A"]
    assert _actions(owner.get(base, {"actor": cast.member.email})) == ["secret.set:C"]
    assert _actions(owner.get(base, {"actor": str(cast.owner.id)})) == ["variable.set:B", "secret.set:A"]
    assert _actions(owner.get(base, {"action": "secret.set"})) == ["secret.set:C", "secret.set:A"]
    assert _actions(owner.get(base, {"action": "variable.*"})) == ["variable.set:B"]
    assert _actions(owner.get(base, {"target": "B"})) == ["variable.set:B"]
    assert _actions(owner.get(base, {"target": str(mixed["env"].id)})) == everything
    rows = owner.get(base).json()["results"]
    middle = rows[1]["at"]
    assert _actions(owner.get(base, {"since": middle})) == everything[:2]
    assert _actions(owner.get(base, {"until": middle})) == everything[2:]
    assert _actions(owner.get(base, {"since": "2000-01-01", "until": "2000-01-02"})) == []
    assert SECRET.encode() not in owner.get(base).content


def test_the_api_pages_with_a_cursor(cast, as_, mixed):
    owner = as_("owner")
    first = owner.get(cast.url("audit"), {"limit": 2}).json()
    assert len(first["results"]) == 2 and first["next_cursor"] == first["results"][-1]["id"]
    assert "cursor=" in first["next"] and "limit=2" in first["next"]
    second = owner.get(first["next"]).json()
    assert [r["target"]["id"] for r in second["results"]] == ["A"] and second["next_cursor"] is None


@pytest.mark.parametrize(
    "query, parameter",
    [({"since": "yesterday"}, "since"), ({"limit": "0"}, "limit"), ({"cursor": "x"}, "cursor"),
     ({"since": "2026-02-01", "until": "2026-01-01"}, "until")],
)  # fmt: skip
def test_a_malformed_filter_is_refused_naming_it(cast, as_, query, parameter):
    answer = as_("owner").get(cast.url("audit"), query)
    assert answer.status_code == 400 and parameter in answer.json()


# --- where else entries come from and go -------------------------------------------------------------


def test_an_execution_reading_a_secret_or_a_connection_is_recorded_with_the_runner(client):
    from flomation.core import executions
    from flomation.core.services.queues import queue_registration_code, queue_shared
    from tests.core.test_protocol_connections import fetch, smtp
    from tests.runner import factories as rf

    runner = rf.register(queue_registration_code(queue=queue_shared()), key=rf.test_key())
    organisation = rf.make_organisation()
    env = m.Environment.objects.create(organisation=organisation, name="production")
    secret_set(environment=env, name="TOKEN", value=SECRET)
    smtp(organisation, "mail.example.com")
    execution = rf.run(rf.make_workflow(organisation, rf.three_node_flow()), environment=env)
    (job,) = executions.execution_claim(runner=runner, limit=1)
    before = m.AuditEntry.objects.filter(organisation_id=organisation.id).count()
    path = f"/api/v1/runners/{runner.id}/executions/{execution.id}/secrets/TOKEN"
    headers = {"X-Flomation-Lease": job["lease_token"]}
    assert (
        rf.signed_request(client, runner.id, rf.test_key(), "GET", path, headers=headers).status_code == 200
    )
    assert fetch(client, runner, execution, job, "mail").status_code == 200
    used = list(m.AuditEntry.objects.filter(organisation_id=organisation.id).order_by("seq")[before:])
    assert [(e.action, e.actor_type, e.actor_id, e.target_id, e.summary["name"]) for e in used] == [
        ("secret.used", "runner", str(runner.id), str(execution.id), "TOKEN"),
        ("connection.used", "runner", str(runner.id), str(execution.id), "mail"),
    ]
    assert SECRET not in json.dumps([e.summary for e in used]) and "pw-mail" not in json.dumps(
        [e.summary for e in used]
    )


def test_an_admin_action_is_recorded_with_the_operator(cast, admin_client, admin_user):
    group = group_save(organisation=cast.organisation, name="ops", permissions=[], member_ids=[])
    baseline = m.AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    answer = admin_client.post(f"/admin/core/group/{group.id}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    (entry,) = m.AuditEntry.objects.filter(id__gt=baseline)
    assert (entry.action, entry.organisation_id, entry.target_type, entry.target_id) == (
        "admin.deleted", cast.organisation.id, "core.group", str(group.id),
    )  # fmt: skip
    assert entry.actor_type == "user" and entry.actor_id == str(admin_user.id)


def test_staff_see_every_organisations_entries_in_the_admin_and_cannot_change_them(
    cast, admin_client, history
):
    listing = admin_client.get("/admin/core/auditentry/")
    assert listing.status_code == 200 and b"secret.set" in listing.content
    assert admin_client.get("/admin/core/auditentry/add/").status_code == 403
    entry = history[0]
    assert admin_client.post(f"/admin/core/auditentry/{entry.id}/delete/", {"post": "yes"}).status_code == 403
    assert m.AuditEntry.objects.filter(id=entry.id).exists()


def test_entries_stream_as_json_lines_to_a_file_once_committed(
    cast, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.AUDIT_STREAM = f"file:{tmp_path}/audit.jsonl"
    with django_capture_on_commit_callbacks(execute=True):
        secret_set(environment=cast.environment(), name="STREAMED", value=SECRET)
    (line,) = (tmp_path / "audit.jsonl").read_text().splitlines()
    document = json.loads(line)
    assert document["action"] == "secret.set" and document["target"]["id"] == "STREAMED"
    assert document["organisation"] == str(cast.organisation.id) and SECRET not in line


def test_entries_stream_to_a_syslog_server(cast, settings, django_capture_on_commit_callbacks):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        settings.AUDIT_STREAM = f"syslog:127.0.0.1:{server.getsockname()[1]}"
        with django_capture_on_commit_callbacks(execute=True):
            secret_set(environment=cast.environment(), name="SYSLOGGED", value=SECRET)
        datagram = server.recv(65536).decode()
    assert datagram.startswith("<14>") and '"action":"secret.set"' in datagram and SECRET not in datagram


def test_a_change_that_rolls_back_leaves_no_entry(cast):
    from django.db import transaction

    before = m.AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        secret_set(environment=cast.environment(), name="GONE", value=SECRET)
        raise RuntimeError("the request failed after the change")
    assert m.AuditEntry.objects.count() == before and not m.Secret.objects.filter(name="GONE").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_of_one_organisation_still_form_one_unbroken_chain():
    import threading

    from django.db import connections

    from tests.core import factories as f

    organisation = f.OrganisationFactory()
    env = organisation.environments.get(name="development")
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start.wait()
            for round_ in range(3):
                secret_set(environment=env, name=f"K{number}_{round_}", value=SECRET)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert [e.seq for e in _entries(organisation)] == list(range(1, 25))
    assert audit_verify(organisation_id=organisation.id).problems == []


@pytest.mark.django_db(transaction=True)
def test_over_a_real_socket_the_entry_carries_the_callers_address_and_user_agent(live_server):
    import requests

    from tests.core import factories as f
    from tests.core.conftest import identity_token

    organisation = f.OrganisationFactory()
    owner = f.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    env = organisation.environments.get(name="development")
    headers = {"Authorization": "Bearer " + identity_token(owner), "User-Agent": "deploy-script/2.1"}
    url = (
        f"{live_server.url}/api/v1/organisations/{organisation.id}/environments/{env.id}/secrets/DB_PASSWORD"
    )
    answer = requests.put(url, json={"value": SECRET}, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    (entry,) = _entries(organisation)
    assert (entry.action, entry.actor_id, entry.source_ip, entry.user_agent) == (
        "secret.set", str(owner.id), "127.0.0.1", "deploy-script/2.1",
    )  # fmt: skip
    audit = requests.get(
        f"{live_server.url}/api/v1/organisations/{organisation.id}/audit", headers=headers, timeout=10
    )
    assert [row["target"]["id"] for row in audit.json()["results"]] == ["DB_PASSWORD"]
    assert SECRET not in audit.text


def test_a_malformed_audit_setting_stops_start_up_naming_it():
    from tests.support.servers import manage

    stream = manage("check", env={"AUDIT_STREAM": "kafka://broker:9092"})
    assert (
        stream.returncode != 0 and "AUDIT_STREAM must be empty, file:/absolute/path, syslog" in stream.stderr
    )
    retention = manage("check", env={"AUDIT_RETENTION_DAYS": "0"})
    assert retention.returncode != 0 and "AUDIT_RETENTION_DAYS must be at least 1" in retention.stderr


def test_audit_verify_checks_one_chain_when_asked(cast, history):
    out = StringIO()
    call_command("audit_verify", organisation=str(cast.organisation.id), stdout=out)
    assert out.getvalue() == "OK: 4 audit entries in 1 chain(s) verify.\n"
    call_command("audit_verify", organisation="platform", stdout=out)
    with pytest.raises(CommandError, match="organisation's id or 'platform'"):
        call_command("audit_verify", organisation="acme")
