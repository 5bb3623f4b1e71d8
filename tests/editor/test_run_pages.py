"""Run now, the live and replay view, the event stream, cancel, re-run, the executions list and deploy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from flomation.core import models as m
from flomation.editor.gateway import executions as runs
from flomation.editor.starters import STARTERS
from tests.editor.test_workflow_pages import boot_of

pytestmark = pytest.mark.django_db


def finished_run(workflow: m.Workflow, account: m.Account) -> m.Execution:
    execution = runs.execution_run_now(workflow=workflow, by=account, trigger_data={})
    now = timezone.now()
    for sequence, (node, status, outputs) in enumerate(
        [
            ("trigger", "running", None),
            ("trigger", "success", {"start": "now"}),
            ("greeting", "running", None),
            ("greeting", "success", {"greeting": "Hello"}),
        ],
        start=1,
    ):
        m.ExecutionStep.objects.create(
            execution=execution,
            sequence=sequence,
            node_id=node,
            status=status,
            outputs=outputs,
            duration_ms=3,
        )
    m.Execution.objects.filter(pk=execution.pk).update(
        state="succeeded", started_at=now - timedelta(seconds=2), finished_at=now
    )
    execution.refresh_from_db()
    return execution


def test_run_creates_a_pending_execution_and_answers_its_page(team, hello, browser_for):
    response = browser_for("member").post(
        f"/workflows/{hello.id}/run", {"trigger_data": {"who": "Ada"}}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    execution = m.Execution.objects.get(id=response.json()["execution"])
    assert execution.state == "pending" and execution.trigger_data["who"] == "Ada"
    page = browser_for("member").get(response.json()["url"])
    boot = boot_of(page, "run-boot")
    assert boot["execution"]["state"] == "pending" and boot["mode"] == "live"


def test_running_in_an_environment_it_is_not_deployed_to_says_so(team, hello, browser_for):
    response = browser_for("member").post(
        f"/workflows/{hello.id}/run", {"environment": "production"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert "not deployed to production" in response.json()["error"]


def test_a_viewer_cannot_run(team, hello, browser_for):
    response = browser_for("viewer").post(f"/workflows/{hello.id}/run", {}, content_type="application/json")
    assert response.status_code == 403


def test_the_event_stream_replays_steps_then_ends(team, hello, browser_for):
    execution = finished_run(hello, team.owner)
    response = browser_for("member").get(f"/executions/{execution.id}/events")
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert body.count("event: step") == 4
    assert body.index('"node_id":"greeting"') < body.index("event: end")
    first = m.ExecutionStep.objects.filter(execution=execution).order_by("id").first()
    resumed = browser_for("member").get(
        f"/executions/{execution.id}/events", HTTP_LAST_EVENT_ID=str(first.id)
    )
    assert b"".join(resumed.streaming_content).decode().count("event: step") == 3


def test_state_and_replay_pages_carry_every_step(team, hello, browser_for):
    execution = finished_run(hello, team.owner)
    state = browser_for("viewer").get(f"/executions/{execution.id}/state").json()
    assert [s["status"] for s in state["steps"]] == ["running", "success", "running", "success"]
    replay = browser_for("viewer").get(f"/executions/{execution.id}?mode=replay")
    assert boot_of(replay, "run-boot")["mode"] == "replay"
    assert (
        b"Step 0/0" in replay.content and b"0.5\xc3\x97" in replay.content and b"2\xc3\x97" in replay.content
    )


def test_cancel_a_pending_run_and_refuse_cancelling_a_finished_one(team, hello, browser_for):
    client = browser_for("member")
    execution = runs.execution_run_now(workflow=hello, by=team.member, trigger_data={})
    assert client.post(f"/executions/{execution.id}/cancel").status_code == 302
    execution.refresh_from_db()
    assert execution.state == "cancelled"
    again = client.post(f"/executions/{execution.id}/cancel", content_type="application/json")
    assert again.status_code == 409
    assert "already finished" in again.json()["error"]


def test_rerun_starts_the_same_revision_again(team, hello, browser_for):
    execution = finished_run(hello, team.owner)
    response = browser_for("member").post(f"/executions/{execution.id}/rerun")
    rerun = m.Execution.objects.exclude(id=execution.id).get()
    assert response["Location"] == f"/executions/{rerun.id}"
    assert rerun.revision_id == execution.revision_id


def test_executions_list_filters_and_draws_the_chart(team, hello, browser_for):
    finished_run(hello, team.owner)
    runs.execution_run_now(workflow=hello, by=team.owner, trigger_data={})
    client = browser_for("viewer")
    page = client.get("/executions")
    assert page.status_code == 200
    assert page.content.count(b'class="badge state-') == 2
    assert b"<svg" in page.content and b'class="bar state-succeeded"' in page.content
    assert b"duration-point" in page.content
    failed_only = client.get("/executions?status=failed")
    assert b"No executions match these filters." in failed_only.content
    today = timezone.localdate().isoformat()
    assert (
        client.get(f"/executions?from={today}&to={today}&workflow={hello.id}").content.count(
            b'class="badge state-'
        )
        == 2
    )
    bad = client.get("/executions?from=31/12/2024")
    assert bad.status_code == 400 and b"The from date must look like 2025-01-31." in bad.content


def test_an_outsider_cannot_open_another_organisations_run(team, hello, browser_for):
    execution = finished_run(hello, team.owner)
    assert browser_for("outsider").get(f"/executions/{execution.id}").status_code == 404


def test_publish_rollback_and_promote(team, hello, browser_for):
    client = browser_for("owner")
    page = client.get(f"/workflows/{hello.id}/deploy")
    assert page.status_code == 200 and b"Not deployed." in page.content
    published = client.post(
        f"/workflows/{hello.id}/publish",
        {"environment": "development", "revision": "1", "version_tag": "v1.0.0", "notes": "First"},
    )
    assert published.status_code == 302
    flow = hello.revisions.get().flow
    flow["nodes"][1]["data"]["config"]["inputs"][1]["value"] = "Second"
    client.put(f"/workflows/{hello.id}/flow", {"flow": flow}, content_type="application/json")
    client.post(
        f"/workflows/{hello.id}/publish",
        {"environment": "development", "revision": "2", "version_tag": "v1.1.0"},
    )
    first = m.Deployment.objects.get(workflow=hello, version_tag="v1.0.0")
    assert client.post(f"/workflows/{hello.id}/deployments/{first.id}/rollback").status_code == 302
    current = m.Deployment.objects.get(workflow=hello, environment__name="development", is_current=True)
    assert current.revision.number == 1 and current.kind == "rollback"
    client.post(f"/workflows/{hello.id}/promote", {"source": "development", "target": "staging"})
    assert (
        m.Deployment.objects.get(workflow=hello, environment__name="staging", is_current=True).revision.number
        == 1
    )
    history = client.get(f"/workflows/{hello.id}/deploy")
    assert b"v1.1.0" in history.content and b"Roll back to this" in history.content


def test_publishing_needs_the_deploy_permission(team, hello, browser_for):
    response = browser_for("member").post(
        f"/workflows/{hello.id}/publish", {"environment": "development", "version_tag": "v1"}
    )
    assert response.status_code == 403


def test_deploy_page_lists_deployed_trigger_urls_with_the_pixel_snippet(team, browser_for):
    from flomation.editor.gateway import workflows as wf

    pixel = {
        "id": "px",
        "type": "trigger/image",
        "data": {"id": "px", "label": "trigger/image", "config": {"id": "px", "type": 1, "inputs": []}},
    }
    flow = {
        "nodes": [*STARTERS["webhook-branch"]["flow"]["nodes"], pixel],
        "edges": STARTERS["webhook-branch"]["flow"]["edges"],
    }
    workflow = wf.workflow_create(organisation=team.organisation, name="Hooks", author=team.owner, flow=flow)
    client = browser_for("owner")
    assert b"No deployed triggers yet" in client.get(f"/workflows/{workflow.id}/deploy").content
    client.post(f"/workflows/{workflow.id}/publish", {"environment": "development", "version_tag": "v1"})
    page = client.get(f"/workflows/{workflow.id}/deploy").content.decode()
    assert "/launch/webhook/" in page and "/launch/image/" in page
    assert "&lt;img src=" in page and ".gif" in page


def deployed_triggers(team, browser_for):
    """A workflow with a webhook, a schedule and a git poller, published to development by the owner."""
    from flomation.editor.gateway import workflows as wf
    from tests.launch.conftest import flow_with, trigger_node

    flow = flow_with(
        trigger_node("trigger/webhook", {}, "hook"),
        trigger_node("trigger/schedule", {"cron": "0 6 * * *", "timezone": "America/New_York"}, "cron"),
        trigger_node(
            "trigger/git_poll", {"url": "https://git.example.com/acme/repo.git", "branch": "main"}, "git"
        ),
    )
    workflow = wf.workflow_create(organisation=team.organisation, name="Timed", author=team.owner, flow=flow)
    browser_for("owner").post(
        f"/workflows/{workflow.id}/publish", {"environment": "development", "version_tag": "v1"}
    )
    return workflow


def test_deploy_page_shows_a_schedules_cron_timezone_and_next_runs(team, browser_for):
    workflow = deployed_triggers(team, browser_for)
    page = browser_for("viewer").get(f"/workflows/{workflow.id}/deploy").content.decode()
    assert "<code>0 6 * * *</code> (America/New_York)" in page
    section = page.split('class="fire-times"', 1)[1].split("</ol>", 1)[0]
    assert section.count("<time") == 5 and "06:00 E" in section  # 6 am New York time (EST or EDT)


def test_deploy_page_shows_a_pollers_last_poll_and_error(team, browser_for):
    from flomation.launch.models import Trigger

    workflow = deployed_triggers(team, browser_for)
    page = browser_for("viewer").get(f"/workflows/{workflow.id}/deploy").content.decode()
    assert "Last poll</dt><dd>not yet" in page
    Trigger.objects.filter(workflow=workflow, node_id="git").update(
        last_error="git ls-remote failed: repository not found", last_polled_at=timezone.now()
    )
    page = browser_for("viewer").get(f"/workflows/{workflow.id}/deploy").content.decode()
    assert "git ls-remote failed: repository not found" in page and "Last poll</dt><dd>not yet" not in page


def test_a_member_pauses_and_enables_a_trigger_from_the_deploy_page(team, browser_for):
    from flomation.launch.models import Trigger

    workflow = deployed_triggers(team, browser_for)
    cron = Trigger.objects.get(workflow=workflow, node_id="cron")
    client = browser_for("member", enforce_csrf=True)
    page = client.get(f"/workflows/{workflow.id}/deploy")
    action = f"/workflows/{workflow.id}/triggers/{cron.public_id}/enabled"
    assert f'action="{action}"' in page.content.decode()
    token = client.cookies["csrftoken"].value
    assert client.post(action, {"enabled": "0"}).status_code == 403  # no CSRF token: refused
    paused = client.post(action, {"enabled": "0", "csrfmiddlewaretoken": token}, follow=True)
    assert Trigger.objects.get(id=cron.id).enabled is False
    card = paused.content.decode().split(f'id="trigger-{cron.public_id}"', 1)[1].split("</li>", 1)[0]
    assert "Paused" in card and "none while paused" in card and "is paused" in paused.content.decode()
    client.post(action, {"enabled": "1", "csrfmiddlewaretoken": token})
    assert Trigger.objects.get(id=cron.id).enabled is True


def test_a_viewer_can_neither_see_nor_use_the_trigger_switch(team, browser_for):
    from flomation.launch.models import Trigger

    workflow = deployed_triggers(team, browser_for)
    hook = Trigger.objects.get(workflow=workflow, node_id="hook")
    viewer = browser_for("viewer")
    assert "/triggers/" not in viewer.get(f"/workflows/{workflow.id}/deploy").content.decode()
    response = viewer.post(f"/workflows/{workflow.id}/triggers/{hook.public_id}/enabled", {"enabled": "0"})
    assert response.status_code == 403 and Trigger.objects.get(id=hook.id).enabled is True


def test_an_outsider_cannot_switch_another_organisations_trigger(team, browser_for):
    from flomation.launch.models import Trigger

    workflow = deployed_triggers(team, browser_for)
    hook = Trigger.objects.get(workflow=workflow, node_id="hook")
    response = browser_for("outsider").post(
        f"/workflows/{workflow.id}/triggers/{hook.public_id}/enabled", {"enabled": "0"}
    )
    assert response.status_code == 404 and Trigger.objects.get(id=hook.id).enabled is True
