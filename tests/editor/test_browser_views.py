"""In headless Chromium: the run view fits a graph whose nodes were moved far away and reads at a glance;
the canvas places clicked nodes where they cover nothing, fits centred, and clears a fixed problem."""

from __future__ import annotations

from typing import Any

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

from tests.core import factories as f
from tests.editor.test_browser import (  # noqa: F401 - pytestmark applies the same skips here
    By,
    add_from_palette,
    ec,
    log_in,
    pytestmark,
    screenshot,
    script_errors,
    select_node,
    set_property,
    wait,
)
from tests.runner.flows import node

FAILING_CODE = (
    'def check(order):\n    raise ValueError("order " + order + " has no lines")\n\ncheck("A-17")\n'
)


def open_step(driver, node_id: str) -> None:
    """Clicks a node's row in the run view's step list (rows are redrawn as events arrive)."""

    def clicked(d) -> bool:
        try:
            d.find_element(By.CSS_SELECTOR, f'#step-list li[data-node-id="{node_id}"] button').click()
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        return d.find_element(By.CSS_SELECTOR, "#step-detail code").text == node_id

    wait(driver).until(clicked)


def placed(item: dict[str, Any], x: int, y: int, name: str = "") -> dict[str, Any]:
    item["position"] = {"x": x, "y": y}
    if name:
        item["data"]["config"]["name"] = name
    return item


def far_away_failing_flow() -> dict[str, Any]:
    """Trigger -> build an order -> a script that fails, all moved far from the origin."""
    nodes = [
        placed(node("t1", "trigger/manual", 1), 5200, 4100, "Start"),
        placed(
            node(
                "d1",
                "object/set",
                2,
                [{"name": "field", "value": "id"}, {"name": "value", "type": "string", "value": "A-17"}],
            ),
            5550,
            4250,
            "Build order",
        ),
        placed(
            node("p1", "script/python", 2, [{"name": "code", "type": "code", "value": FAILING_CODE}]),
            5900,
            4000,
            "Check order",
        ),
    ]
    edges = [{"id": "e1", "source": "t1", "target": "d1"}, {"id": "e2", "source": "d1", "target": "p1"}]
    return {"nodes": nodes, "edges": edges}


def boxes_inside(driver, selector: str) -> tuple[dict, list[dict]]:
    return driver.execute_script(
        """
        const host = document.getElementById('drawflow').getBoundingClientRect();
        const nodes = [...document.querySelectorAll(arguments[0])].map(e => e.getBoundingClientRect());
        return [host.toJSON(), nodes.map(r => r.toJSON())];
        """,
        selector,
    )


def assert_fitted_and_centred(driver) -> None:
    host, nodes = boxes_inside(driver, ".drawflow-node")
    assert nodes
    for box in nodes:
        assert host["left"] <= box["left"] and box["right"] <= host["right"], (host, box)
        assert host["top"] <= box["top"] and box["bottom"] <= host["bottom"], (host, box)
    left, right = min(b["left"] for b in nodes), max(b["right"] for b in nodes)
    top, bottom = min(b["top"] for b in nodes), max(b["bottom"] for b in nodes)
    assert abs((left + right) / 2 - (host["left"] + host["right"]) / 2) < 20
    assert abs((top + bottom) / 2 - (host["top"] + host["bottom"]) / 2) < 20


def test_the_run_view_of_a_failed_run_fits_the_graph_and_reads_at_a_glance(platform, chrome):
    driver, base = chrome, platform
    account = log_in(driver, base)
    organisation = account.memberships.get().organisation
    workflow = f.WorkflowFactory(
        organisation=organisation, name="Orders", revisions__flow=far_away_failing_flow()
    )
    driver.get(f"{base}/workflows/{workflow.id}")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".drawflow-node")) == 3)
    driver.find_element(By.ID, "run-open").click()
    driver.find_element(By.ID, "run-submit").click()
    wait(driver).until(ec.url_contains("/executions/"))
    wait(driver, 120).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-execution-state") == "failed"
    )
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#step-list li")) == 3)
    assert_fitted_and_centred(driver)

    # One row per node, by label, with status and a duration in a readable unit.
    rows = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#step-list li")]
    assert [row.split("\n")[0].split(" ")[0] for row in rows] == ["Start", "Build", "Check"]
    assert "failed" in rows[2] and all(("ms" in row or " s" in row) for row in rows)

    open_step(driver, "p1")
    traceback = driver.find_element(By.CSS_SELECTOR, "#step-detail pre.traceback")
    assert "order A-17 has no lines" in traceback.text
    assert "Traceback (most recent call last):\n" in traceback.text  # line breaks kept
    assert traceback.value_of_css_property("white-space") == "pre-wrap"
    open_step(driver, "d1")
    outputs = driver.find_elements(By.CSS_SELECTOR, "#step-detail .value-section")[1]
    assert outputs.find_element(By.CSS_SELECTOR, ".copy-json").text == "Copy JSON"
    assert "A-17" in outputs.find_element(By.CSS_SELECTOR, "table.kv").text
    screenshot(driver, "run-failed")
    assert script_errors(driver) == []


def test_a_large_output_is_shown_as_its_size_with_a_download_link(platform, chrome):
    driver, base = chrome, platform
    account = log_in(driver, base)
    organisation = account.memberships.get().organisation
    big = node(
        "s1", "string/repeat", 2, [{"name": "value", "value": "xxxxx"}, {"name": "count", "value": 10000}]
    )
    flow = {
        "nodes": [placed(node("t1", "trigger/manual", 1), 0, 0), placed(big, 300, 0)],
        "edges": [{"id": "e1", "source": "t1", "target": "s1"}],
    }
    workflow = f.WorkflowFactory(organisation=organisation, name="Big", revisions__flow=flow)
    driver.get(f"{base}/workflows/{workflow.id}")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".drawflow-node")) == 2)
    driver.find_element(By.ID, "run-open").click()
    driver.find_element(By.ID, "run-submit").click()
    wait(driver).until(ec.url_contains("/executions/"))
    wait(driver, 120).until(
        lambda d: (
            d.find_element(By.TAG_NAME, "body").get_attribute("data-execution-state")
            in ("succeeded", "failed")
        )
    )
    open_step(driver, "s1")
    value = driver.find_element(By.CSS_SELECTOR, "#step-detail .value-section:last-of-type .large-value")
    assert value.text.startswith("text of 48.8 KB")  # the whole value's size, not the 4 KB a step keeps
    link = value.find_element(By.CSS_SELECTOR, "a.download")
    assert link.text == "Download the first 4.0 KB (all a step keeps)"
    assert link.get_attribute("href").startswith("blob:")


def test_clicked_nodes_land_beside_the_selected_one_and_fit_centres_the_graph(platform, chrome):
    driver, base = chrome, platform
    log_in(driver, base)
    driver.get(base + "/workflows")
    driver.find_element(By.CSS_SELECTOR, '[data-open="new-workflow"]').click()
    driver.find_element(By.ID, "new-name").send_keys("Placement")
    driver.find_element(By.CSS_SELECTOR, '#new-workflow button[type="submit"]').click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".palette-item")))
    ids = [add_from_palette(driver, "manual", "trigger/manual")]
    for _ in range(3):
        ids.append(add_from_palette(driver, "upper", "string/upper_case"))
    _, boxes = boxes_inside(driver, ".drawflow-node")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a["right"] <= b["left"] or b["right"] <= a["left"]
            assert apart or a["bottom"] <= b["top"] or b["bottom"] <= a["top"], (a, b)
    # The second node went to the right of the first (the one selected when it was added).
    assert boxes[1]["left"] > boxes[0]["right"]

    driver.find_element(By.ID, "zoom-fit").click()
    assert_fitted_and_centred(driver)
    assert driver.execute_script("return window.floCanvas.editor.zoom") >= 0.6
    screenshot(driver, "canvas-placed")


def test_a_problem_fixed_in_the_panel_leaves_the_panel_once_saved(platform, chrome):
    driver, base = chrome, platform
    log_in(driver, base)
    driver.get(base + "/workflows")
    driver.find_element(By.CSS_SELECTOR, '[data-open="new-workflow"]').click()
    driver.find_element(By.ID, "new-name").send_keys("Fix it")
    driver.find_element(By.CSS_SELECTOR, '#new-workflow button[type="submit"]').click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".palette-item")))
    add_from_palette(driver, "manual", "trigger/manual")
    request = add_from_palette(driver, "request", "web/request")
    select_node(driver, request)
    problems = (By.CSS_SELECTOR, "#inspector-body .panel-errors .error-message")
    wait(driver, 30).until(lambda d: "url" in " ".join(e.text for e in d.find_elements(*problems)))
    set_property(driver, "url", "https://example.test/orders")
    wait(driver, 30).until(lambda d: not d.find_elements(*problems))
    # The author is still in the field they typed in: the panel was not redrawn under them.
    assert driver.switch_to.active_element.get_attribute("data-input") == "url"


def test_a_webhook_on_a_two_trigger_flow_runs_its_own_branch_in_the_run_view(platform, chrome):
    import requests

    from flomation.editor.gateway import deployments as deploys
    from tests.runner.test_trigger_routing import two_trigger_flow

    driver, base = chrome, platform
    account = log_in(driver, base)
    organisation = account.memberships.get().organisation
    workflow = f.WorkflowFactory(
        organisation=organisation, name="Two doors", revisions__flow=two_trigger_flow("trigger/webhook")
    )
    environment = deploys.environment_list(organisation=organisation)[0]
    deploys.workflow_deploy(
        workflow=workflow, environment=environment, revision_number=1, version_tag="v1", notes="", by=account
    )
    driver.get(f"{base}/workflows/{workflow.id}")
    shown = wait(driver).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '.drawflow-node[data-node-id="t1"] .flo-url-production')
    )
    answer = requests.post(shown[0].get_attribute("title"), json={"name": "Webhook Bob"}, timeout=10)
    assert answer.status_code == 202, answer.text

    driver.get(f"{base}/executions?workflow={workflow.id}")
    driver.find_element(By.CSS_SELECTOR, 'a[href^="/executions/"]').click()
    wait(driver, 120).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-execution-state") == "succeeded"
    )
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#step-list li")) == 2)
    ran = [li.get_attribute("data-node-id") for li in driver.find_elements(By.CSS_SELECTOR, "#step-list li")]
    assert ran == ["t1", "b"]
    statuses = {
        e.get_attribute("data-node-id"): e.get_attribute("data-status")
        for e in driver.find_elements(By.CSS_SELECTOR, ".drawflow-node")
    }
    assert statuses["t1"] == "success" and statuses["b"] == "success" and statuses["m1"] == ""
    open_step(driver, "t1")
    assert "Webhook Bob" in driver.find_element(By.ID, "step-detail").text
    screenshot(driver, "two-trigger-run")
    assert script_errors(driver) == []


def test_a_problem_the_change_has_answered_leaves_at_once_not_at_the_next_save(platform, chrome):
    driver, base = chrome, platform
    log_in(driver, base)
    driver.get(base + "/workflows")
    driver.find_element(By.CSS_SELECTOR, '[data-open="new-workflow"]').click()
    driver.find_element(By.ID, "new-name").send_keys("Start empty")
    driver.find_element(By.CSS_SELECTOR, '#new-workflow button[type="submit"]').click()
    panel = (By.ID, "problems")
    wait(driver, 30).until(lambda d: "the flow has no nodes" in d.find_element(*panel).text)
    add_from_palette(driver, "manual", "trigger/manual")
    wait(driver, 2).until(lambda d: not d.find_element(*panel).is_displayed())
    # Gone before the autosave: the author is not told the flow is empty while looking at a node.
    assert "Unsaved" in driver.find_element(By.CSS_SELECTOR, ".save-status").text
    assert script_errors(driver) == []
