"""Workflows managed in files, in the editor: the canvas marks them read only ("managed in files") and its
saves are refused with a 409 saying why; they export back to their own file; Settings > Git sync connects a
repository, refuses hostile settings, and shows the last sync's errors with file and line."""

from __future__ import annotations

import json

import pytest
import yaml

from flomation.core import models as m
from flomation.core.services.flow_sources.apply import flow_source_apply
from tests.core import factories as f
from tests.editor.test_browser import log_in, screenshot, script_errors, wait
from tests.support.browser import CHROMEDRIVER, CHROMIUM

SHA = "0123456789abcdef0123456789abcdef01234567"


def managed_workflow(organisation: m.Organisation, *, kind: str = "git") -> m.Workflow:
    source = m.FlowSource.objects.create(
        organisation=organisation, kind=kind, repository_url="https://git.example.com/acme/flows.git",
        next_check_at="2100-01-01T00:00:00Z",  # the platform's own loop leaves it alone
    )  # fmt: skip
    document = {"name": "Orders", "environment": "staging", "flow": f.flow(value="from git")}
    outcome = flow_source_apply(
        source=source, files={"orders.yaml": yaml.safe_dump(document).encode()}, commit_sha=SHA
    )
    assert outcome.ok, outcome.problems
    return m.Workflow.objects.get(source=source)


@pytest.mark.django_db
def test_the_canvas_marks_a_managed_workflow_read_only_and_refuses_its_saves(team, browser_for):
    workflow = managed_workflow(team.organisation)
    client = browser_for("owner")
    page = client.get(f"/workflows/{workflow.id}").content.decode()
    assert "Managed in files" in page and "<code>orders.yaml</code>" in page
    assert "the organisation's Git repository" in page and SHA[:12] in page
    assert f'href="/workflows/{workflow.id}/export?file=1"' in page

    answer = client.put(
        f"/workflows/{workflow.id}/flow",
        json.dumps({"flow": f.flow(value="by hand"), "base_revision": 1}),
        content_type="application/json",
    )
    assert answer.status_code == 409
    assert "managed in files (orders.yaml in the organisation's Git repository)" in answer.json()["error"]
    assert workflow.revisions.count() == 1
    listing = client.get("/workflows").content.decode()
    assert "managed in files</span>" in listing and "orders.yaml is its source" in listing


@pytest.mark.django_db
def test_a_managed_workflow_exports_back_to_its_own_file(team, browser_for):
    workflow = managed_workflow(team.organisation)
    answer = browser_for("viewer").get(f"/workflows/{workflow.id}/export?file=1")
    assert answer["Content-Disposition"] == 'attachment; filename="orders.yaml"'
    document = yaml.safe_load(answer.content)
    assert (document["name"], document["environment"]) == ("Orders", "staging")
    assert document["flow"]["nodes"][1]["data"]["config"]["inputs"][1]["value"] == "from git"


@pytest.mark.django_db
def test_git_settings_connect_a_repository_and_show_the_secret_once(team, browser_for):
    client = browser_for("owner")
    answer = client.post(
        "/settings/git/save",
        {"repository_url": "https://git.example.com/acme/flows.git", "branch": "main", "sub_path": "flows",
         "interval_seconds": "120", "default_environment": "production"},
    )  # fmt: skip
    source = m.FlowSource.objects.get(organisation=team.organisation, kind="git")
    assert (source.sub_path, source.interval_seconds) == ("flows", 120)
    assert 'id="git-secret"' in answer.content.decode()
    assert f"/api/v1/git-sync/{source.id}/webhook" in answer.content.decode()
    assert 'id="git-secret"' not in client.get("/settings/git").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("repository_url", "ext::sh -c touch% /tmp/pwned", "transport helpers"),
        ("repository_url", "-uhack", "must not start with"),
        ("branch", "--force", "must not start with"),
        ("sub_path", "../secrets", "'..'"),
    ],
)
def test_git_settings_refuse_hostile_values_with_a_message(team, browser_for, field, value, reason):
    form = {"repository_url": "https://git.example.com/acme/flows.git", "branch": "main", "sub_path": ""}
    form[field] = value
    answer = browser_for("owner").post("/settings/git/save", form, follow=True)
    assert reason in answer.content.decode().replace("&#x27;", "'")
    assert not m.FlowSource.objects.exists()


@pytest.mark.django_db
def test_members_see_git_settings_but_cannot_change_them(team, browser_for):
    answer = browser_for("member").post("/settings/git/save", {"repository_url": "https://x.test/r.git"})
    assert answer.status_code == 403
    assert "needs the permission" in browser_for("member").get("/settings/git").content.decode()


# --- in Chromium ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
@pytest.mark.skipif(not CHROMEDRIVER.exists(), reason="needs /usr/bin/chromedriver")
@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_in_the_browser_a_managed_flow_is_read_only_and_git_errors_show_file_and_line(platform, chrome):
    from selenium.webdriver.common.by import By

    driver, base = chrome, platform
    account = log_in(driver, base)
    organisation = account.memberships.get().organisation
    workflow = managed_workflow(organisation)

    driver.get(f"{base}/workflows/{workflow.id}")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.drawflow-node[data-node-id="o1"]'))
    banner = driver.find_element(By.ID, "managed-banner")
    assert "Managed in files" in banner.text and "orders.yaml" in banner.text
    assert driver.find_element(By.ID, "save-status").text == "Managed in files: read only"
    assert not driver.find_element(By.ID, "version-open").is_enabled()
    screenshot(driver, "managed-in-files-canvas")
    assert workflow.revisions.count() == 1

    m.FlowSource.objects.filter(id=workflow.source_id).update(
        status="failed",
        commit_sha="fedcba9876543210fedcba9876543210fedcba98",
        errors=[{"file": "billing.yaml", "line": 12, "node_id": "o1", "message": "unknown node type"}],
    )
    driver.get(f"{base}/settings/git")
    errors = driver.find_element(By.ID, "git-errors").text
    assert "Nothing was deployed" in errors and "billing.yaml:12" in errors and "o1" in errors
    screenshot(driver, "git-sync-settings-errors")
    driver.execute_script("document.getElementById('git-form').scrollIntoView()")
    screenshot(driver, "git-sync-settings-form")
    assert not [e for e in script_errors(driver) if e["level"] == "SEVERE"]
