"""The property panel's helpers over real HTTP (the live server): a schedule's next fire times as the author
types, and the webhook's test URL, which captures one request for the author who is listening."""

from __future__ import annotations

import time

import requests

from tests.core.conftest import identity_token


def session(account, base: str = "") -> requests.Session:  # noqa: ANN001 - an Account
    """The account's browser: its identity, and (given the server) the CSRF token the editor's pages hand out."""
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + identity_token(account)
    if base:
        http.get(base + "/workflows", timeout=10)
        http.headers["X-CSRFToken"] = http.cookies.get("csrftoken", "")
    return http


def test_the_cron_preview_lists_the_next_five_fire_times_in_the_chosen_zone(team, hello, live_server):
    owner = session(team.owner)
    url = f"{live_server.url}/workflows/{hello.id}/cron-preview"

    answer = owner.get(url, params={"mode": "cron", "cron": "30 9 * * 1-5", "timezone": "Europe/London"})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["cron"] == "30 9 * * 1-5" and body["timezone"] == "Europe/London"
    assert len(body["next_fire_times"]) == 5
    for fire in body["next_fire_times"]:
        assert " 09:30 " in fire["local"] and fire["local"][:3] in {"Mon", "Tue", "Wed", "Thu", "Fri"}
        assert fire["local"].endswith(("GMT", "BST"))


def test_the_cron_preview_turns_a_daily_mode_into_cron_and_explains_a_bad_expression(
    team, hello, live_server
):
    owner = session(team.owner)
    url = f"{live_server.url}/workflows/{hello.id}/cron-preview"

    daily = owner.get(url, params={"mode": "daily", "time_of_day": "07:15", "timezone": "America/New_York"})
    assert daily.status_code == 200, daily.text
    assert daily.json()["cron"] == "15 7 * * *"
    assert all(" 07:15 " in fire["local"] for fire in daily.json()["next_fire_times"])

    bad = owner.get(url, params={"mode": "cron", "cron": "61 * * *", "timezone": "UTC"})
    assert bad.status_code == 400
    assert "five-field cron expression" in bad.json()["error"]
    zone = owner.get(url, params={"mode": "cron", "cron": "* * * * *", "timezone": "Mars/Olympus"})
    assert zone.status_code == 400 and "unknown time zone" in zone.json()["error"]


def test_an_outsider_cannot_use_another_organisations_cron_preview(team, hello, live_server):
    answer = session(team.outsider).get(
        f"{live_server.url}/workflows/{hello.id}/cron-preview", params={"cron": "* * * * *"}
    )
    assert answer.status_code == 404


def _webhook_workflow(team):  # noqa: ANN001, ANN202
    from flomation.editor.gateway import workflows as wf

    flow = {
        "nodes": [
            {"id": "hook", "type": "trigger/webhook", "position": {"x": 0, "y": 0}, "data": {"config": {}}}
        ],
        "edges": [],
    }
    return wf.workflow_create(organisation=team.organisation, name="Orders", author=team.owner, flow=flow)


def test_listening_captures_one_test_request_for_the_author_only_and_runs_nothing(
    team, live_server, settings
):
    settings.LAUNCH_URL = live_server.url
    from flomation.core import models as m

    workflow = _webhook_workflow(team)
    owner = session(team.owner, live_server.url)
    started = owner.post(f"{live_server.url}/workflows/{workflow.id}/nodes/hook/listen")
    assert started.status_code == 201, started.text
    listening = started.json()
    assert listening["state"] == "listening"
    test_url = listening["test_url"]
    assert f"/launch/test/{workflow.id}/hook?token=" in test_url
    poll = f"{live_server.url}/workflows/{workflow.id}/listen/{listening['id']}"

    # Without the token, or with a token for another node, nothing is captured.
    bare = requests.post(test_url.split("?")[0], json={"x": 1}, timeout=10)
    assert bare.status_code == 403
    forged = requests.post(test_url.replace("/hook?", "/other?"), json={"x": 1}, timeout=10)
    assert forged.status_code == 403
    assert owner.get(poll).json()["state"] == "listening"

    sent = requests.put(
        test_url + "&page=2",
        json={"name": "Test Bob", "items": [1, 2]},
        headers={"Authorization": "Bearer top-secret-value", "Cookie": "session=abc", "X-Trace": "t-1"},
        timeout=10,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "captured"

    seen = owner.get(poll)
    assert seen.status_code == 200
    event = seen.json()
    assert event["state"] == "captured"
    captured = event["event"]
    assert captured["method"] == "PUT"
    assert captured["body"] == {"name": "Test Bob", "items": [1, 2]}
    assert captured["query"] == {"page": "2"}
    assert captured["headers"]["X-Trace"] == "t-1"
    assert captured["headers"]["Authorization"] == "[hidden]" and captured["headers"]["Cookie"] == "[hidden]"
    assert "top-secret-value" not in seen.text and "session=abc" not in seen.text
    assert not m.Execution.objects.filter(workflow=workflow).exists()

    # One request per session: a second answers 410.
    again = requests.post(test_url, json={"name": "Again"}, timeout=10)
    assert again.status_code == 410

    # Someone else cannot read it: another member of the organisation, or an outsider.
    assert session(team.member).get(poll).status_code == 404
    assert session(team.outsider).get(poll).status_code == 404
    outsider = session(team.outsider, live_server.url)
    refused = outsider.post(f"{live_server.url}/workflows/{workflow.id}/nodes/hook/listen")
    assert refused.status_code == 404, refused.text[:300]


def test_a_test_body_over_the_cap_is_refused_and_not_captured(team, live_server, settings):
    settings.LAUNCH_TEST_MAX_BODY_BYTES = 100
    settings.LAUNCH_URL = live_server.url
    workflow = _webhook_workflow(team)
    owner = session(team.owner, live_server.url)
    listening = owner.post(f"{live_server.url}/workflows/{workflow.id}/nodes/hook/listen").json()

    big = requests.post(listening["test_url"], data=b"x" * 101, timeout=10)

    assert big.status_code == 413
    assert owner.get(f"{live_server.url}/workflows/{workflow.id}/listen/{listening['id']}").json()[
        "state"
    ] == ("listening")


def test_an_expired_test_url_is_refused(team, live_server, settings):
    settings.LAUNCH_TEST_LISTEN_SECONDS = 1
    settings.LAUNCH_URL = live_server.url
    workflow = _webhook_workflow(team)
    owner = session(team.owner, live_server.url)
    listening = owner.post(f"{live_server.url}/workflows/{workflow.id}/nodes/hook/listen").json()

    time.sleep(2.1)
    assert requests.post(listening["test_url"], json={}, timeout=10).status_code == 410
