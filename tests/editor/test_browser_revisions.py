"""In headless Chromium: dragging nodes makes no revision, two edits after a pause make one, "Save version"
makes a named one, and leaving the editor closes the revision so the next visit starts a new one."""

from __future__ import annotations

import pytest

from flomation.core import models as m
from flomation.editor.gateway import workflows as wf
from flomation.editor.starters import STARTERS
from tests.editor.test_browser import log_in, screenshot, script_errors, select_node, set_property, wait
from tests.support.browser import CHROMEDRIVER, CHROMIUM

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
    pytest.mark.skipif(not CHROMEDRIVER.exists(), reason="needs /usr/bin/chromedriver"),
    pytest.mark.django_db(transaction=True),
]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def saves_settled(driver) -> bool:  # noqa: ANN001 - a Selenium driver
    status = driver.find_element(By.ID, "save-status").text
    return status.startswith("Saved") and not driver.execute_script("return window.floCanvas.isDirty()")


def drag(driver, node_id: str, dx: int, dy: int) -> None:  # noqa: ANN001
    title = driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{node_id}"] .flo-title')
    ActionChains(driver).click_and_hold(title).move_by_offset(dx // 2, dy // 2).move_by_offset(
        dx - dx // 2, dy - dy // 2
    ).release().perform()


def history(driver, base: str, workflow: m.Workflow) -> list[str]:  # noqa: ANN001
    driver.get(f"{base}/workflows/{workflow.id}/revisions")
    return [e.get_attribute("data-revision") for e in driver.find_elements(By.CSS_SELECTOR, "li.revision")]


def test_drags_make_no_revision_and_two_edits_make_one(platform, chrome):
    driver, base = chrome, platform
    account = log_in(driver, base)
    workflow = wf.workflow_create(
        organisation=account.memberships.get().organisation,
        name="Coalesce",
        author=account,
        flow=STARTERS["hello"]["flow"],
    )
    assert history(driver, base, workflow) == ["1"]

    driver.get(f"{base}/workflows/{workflow.id}")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.drawflow-node[data-node-id="greeting"]'))
    start = driver.execute_script(
        "return window.floCanvas.currentFlow().nodes.find(n => n.id === 'greeting').position"
    )
    for step in range(4):  # four drags, each saved after the pause
        drag(driver, "greeting", 40, 30 if step % 2 else -30)
        wait(driver, 20).until(lambda d: d.execute_script("return window.floCanvas.isDirty()"))
        wait(driver, 20).until(saves_settled)
        assert driver.execute_script("return window.floCanvas.revision()") == 1
    assert "revision 1 updated" in driver.find_element(By.ID, "save-status").text
    moved = m.Revision.objects.get(workflow=workflow, number=1).flow
    position = next(n for n in moved["nodes"] if n["id"] == "greeting")["position"]
    assert position["x"] >= start["x"] + 120, (start, position)

    select_node(driver, "greeting")
    set_property(driver, "value", "First edit")
    wait(driver, 20).until(lambda d: d.find_element(By.ID, "save-status").text.startswith("Saved revision 2"))
    set_property(driver, "value", "Second edit")
    wait(driver, 20).until(
        lambda d: "revision 2 updated" in d.find_element(By.ID, "save-status").text and saves_settled(d)
    )
    screenshot(driver, "revisions-coalesced-canvas")

    # Exactly one new revision in the History page, holding the last edit.
    assert history(driver, base, workflow) == ["2", "1"]
    assert "saved 2 times" in driver.find_element(By.CSS_SELECTOR, 'li.revision[data-revision="2"]').text
    stored = m.Revision.objects.get(workflow=workflow, number=2)
    assert "Second edit" in str(stored.flow) and "First edit" not in str(stored.flow)
    # Leaving the canvas (here for History) closes the revision.
    wait(driver, 10).until(lambda _: m.Revision.objects.get(workflow=workflow, number=2).sealed)
    screenshot(driver, "revisions-history")

    # Back in the editor, a later edit starts a new revision; a named version makes another.
    driver.get(f"{base}/workflows/{workflow.id}")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.drawflow-node[data-node-id="greeting"]'))
    select_node(driver, "greeting")
    set_property(driver, "value", "Third edit")
    wait(driver, 20).until(lambda d: d.find_element(By.ID, "save-status").text.startswith("Saved revision 3"))
    driver.find_element(By.ID, "version-open").click()
    driver.find_element(By.ID, "version-message").send_keys("Greets properly")
    driver.find_element(By.ID, "version-save").click()
    wait(driver, 20).until(
        lambda d: d.find_element(By.ID, "save-status").text.startswith("Saved version: revision 4")
    )
    assert history(driver, base, workflow) == ["4", "3", "2", "1"]
    assert "Greets properly" in driver.find_element(By.CSS_SELECTOR, 'li.revision[data-revision="4"]').text

    # The Publish dialog offers the most recent revisions, then named versions.
    driver.get(f"{base}/workflows/{workflow.id}/deploy")
    groups = driver.find_elements(By.CSS_SELECTOR, "#pub-rev optgroup")
    assert [g.get_attribute("label") for g in groups] == ["Most recent", "Named versions"]
    recent = [o.get_attribute("value") for o in groups[0].find_elements(By.TAG_NAME, "option")]
    assert recent == ["4", "3", "2"]
    assert [o.get_attribute("value") for o in groups[1].find_elements(By.TAG_NAME, "option")] == ["1"]
    assert script_errors(driver) == []
