"""In headless Chromium: a trigger's settings in the property panel. The author sets a webhook's
authentication and key in the panel and the published webhook enforces them; listens for a test event and
sees the request as the node's output; builds a manual trigger's input fields and picks them as references."""

from __future__ import annotations

import json

import pytest
import requests

from flomation.core import models as m
from flomation.core.services.workflows import workflow_save
from flomation.editor.gateway import deployments as deploys
from tests.core import factories as f
from tests.editor.test_browser import (
    CHROMEDRIVER,
    CHROMIUM,
    By,
    log_in,
    screenshot,
    script_errors,
    select_node,
    wait,
)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists() or not CHROMEDRIVER.exists(), reason="needs chromium"),
    pytest.mark.django_db(transaction=True),
]
from selenium.webdriver.support.ui import Select  # noqa: E402

KEY = "panel-typed-key-5f2c"


def two_nodes(trigger: str, inputs: list | None = None) -> dict:
    return {
        "nodes": [
            f.node("t1", trigger, 1, inputs or []),
            f.node("o1", "output/set", 3, [{"name": "name", "type": "string", "value": "x"}]),
        ],
        "edges": [{"id": "e1", "source": "t1", "target": "o1"}],
    }


def open_canvas(driver, base: str, account: m.Account, flow: dict, name: str) -> m.Workflow:  # noqa: ANN001
    workflow = m.Workflow.objects.create(organisation=account.memberships.get().organisation, name=name)
    workflow_save(workflow=workflow, flow=flow, author=None)
    driver.get(f"{base}/workflows/{workflow.id}")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".drawflow-node")) == 2)
    return workflow


def latest_inputs(workflow: m.Workflow) -> dict:
    flow = workflow.revisions.order_by("-number").first().flow
    node = next(n for n in flow["nodes"] if n["id"] == "t1")
    return {i["name"]: i.get("value") for i in node["data"]["config"]["inputs"]}


def test_an_author_sets_api_key_authentication_in_the_panel_and_the_published_webhook_enforces_it(
    platform, chrome
):
    driver, base = chrome, platform
    account = log_in(driver, base)
    workflow = open_canvas(driver, base, account, two_nodes("trigger/webhook"), "Orders")
    select_node(driver, "t1")

    auth = Select(driver.find_element(By.CSS_SELECTOR, '#inspector-body select[data-input="authentication"]'))
    assert [o.get_attribute("value") for o in auth.options] == ["", "none", "api_key", "bearer", "hmac"]
    auth.select_by_value("api_key")
    field = driver.find_element(By.CSS_SELECTOR, '#inspector-body [data-input="api_key"]')
    field.find_element(By.XPATH, ".//button[text()='Set a value']").click()
    field.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys(KEY)
    field.find_element(By.XPATH, ".//button[text()='Use this value']").click()
    # Validated as typed: a rate limit that is not a number is explained beside the field.
    rate = driver.find_element(By.CSS_SELECTOR, '#inspector-body [data-input="rate_limit"]')
    rate.clear()
    rate.send_keys("lots")
    problem = wait(driver).until(
        lambda d: next(
            (p for p in d.find_elements(By.CSS_SELECTOR, ".field-problem") if p.is_displayed()), None
        )
    )
    assert problem.text == "rate_limit must be a whole number"
    rate.clear()
    rate.send_keys("600")
    wait(driver).until(
        lambda d: not any(p.is_displayed() for p in d.find_elements(By.CSS_SELECTOR, ".field-problem"))
    )

    def saved(_driver: object) -> bool:
        inputs = latest_inputs(workflow)
        return inputs.get("authentication") == "api_key" and isinstance(inputs.get("api_key"), dict)

    wait(driver, 30).until(saved)
    assert latest_inputs(workflow)["rate_limit"] == 600
    organisation = workflow.organisation
    environment = deploys.environment_list(organisation=organisation)[0]
    deploys.workflow_deploy(
        workflow=workflow,
        environment=environment,
        revision_number=workflow.revisions.order_by("-number").first().number,
        version_tag="v1",
        notes="",
        by=account,
    )
    driver.get(f"{base}/workflows/{workflow.id}")
    shown = wait(driver).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '.drawflow-node[data-node-id="t1"] .flo-url-production')
    )
    url = shown[0].get_attribute("title")
    assert "/launch/webhook/" in url
    select_node(driver, "t1")
    status = driver.find_element(
        By.CSS_SELECTOR, '#inspector-body [data-input="api_key"] [data-secret-status]'
    )
    assert status.text == "Set"
    screenshot(driver, "webhook-configured")

    without = requests.post(url, json={"name": "Bob"}, timeout=10)
    wrong = requests.post(url, json={"name": "Bob"}, headers={"X-API-Key": "guess"}, timeout=10)
    with_key = requests.post(url, json={"name": "Bob"}, headers={"X-API-Key": KEY}, timeout=10)
    assert without.status_code == 401 and wrong.status_code == 401
    assert with_key.status_code == 202, with_key.text
    assert KEY not in driver.page_source
    assert script_errors(driver) == []


def test_listening_for_a_test_event_shows_the_request_as_the_nodes_output(platform, chrome):
    driver, base = chrome, platform
    account = log_in(driver, base)
    workflow = open_canvas(driver, base, account, two_nodes("trigger/webhook"), "Test events")
    select_node(driver, "t1")
    driver.find_element(By.XPATH, "//button[text()='Listen for test event']").click()
    url_box = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-test-url]"))
    test_url = url_box[0].text
    assert f"/launch/test/{workflow.id}/t1?token=" in test_url
    node_url = driver.find_element(By.CSS_SELECTOR, '.drawflow-node[data-node-id="t1"] .flo-url-test')
    assert node_url.get_attribute("title") == test_url

    sent = requests.post(
        test_url, json={"customer": "Ada", "total": 42}, headers={"Authorization": "Bearer x"}
    )
    assert sent.status_code == 200, sent.text

    output = wait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-test-output]"))
    shown = json.loads(output[0].text)
    assert shown["body"] == {"customer": "Ada", "total": 42} and shown["method"] == "POST"
    assert shown["headers"]["Authorization"] == "[hidden]"
    assert not m.Execution.objects.filter(workflow=workflow).exists()
    screenshot(driver, "webhook-test-event")

    # Its fields are offered downstream.
    select_node(driver, "o1")
    driver.find_element(By.CSS_SELECTOR, "#inspector-body .ref-button").click()
    offered = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#ref-list code")]
    assert "${t1.body.customer}" in offered and "${body.total}" in offered
    assert script_errors(driver) == []


def test_an_author_builds_the_manual_inputs_and_picks_them_as_references(platform, chrome):
    driver, base = chrome, platform
    account = log_in(driver, base)
    workflow = open_canvas(driver, base, account, two_nodes("trigger/manual"), "Manual")
    select_node(driver, "t1")
    builder = driver.find_element(By.CSS_SELECTOR, "#inspector-body .schema-builder")
    assert not driver.find_elements(By.CSS_SELECTOR, '#inspector-body textarea[data-input="input_schema"]')

    builder.find_element(By.XPATH, ".//button[text()='Add field']").click()
    driver.find_element(By.CSS_SELECTOR, '[aria-label="Field 1 name"]').send_keys("customer")
    driver.find_element(By.CSS_SELECTOR, '[aria-label="Field 1 required"]').click()
    builder.find_element(By.XPATH, ".//button[text()='Add field']").click()
    driver.find_element(By.CSS_SELECTOR, '[aria-label="Field 2 name"]').send_keys("size")
    Select(driver.find_element(By.CSS_SELECTOR, '[aria-label="Field 2 type"]')).select_by_value("string")
    driver.find_element(By.CSS_SELECTOR, '[aria-label="Field 2 default"]').send_keys("M")
    driver.find_element(By.CSS_SELECTOR, '[aria-label="Field 2 options"]').send_keys("S, M, L")

    def saved(_driver: object) -> bool:
        return latest_inputs(workflow).get("input_schema") == [
            {"name": "customer", "type": "string", "required": True},
            {"name": "size", "type": "string", "required": False, "default": "M", "enum": ["S", "M", "L"]},
        ]

    wait(driver, 30).until(saved)
    screenshot(driver, "manual-form-builder")
    select_node(driver, "o1")
    driver.find_element(By.CSS_SELECTOR, "#inspector-body .ref-button").click()
    offered = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#ref-list code")]
    assert "${customer}" in offered and "${size}" in offered and "${t1.customer}" in offered
    assert not any("quote" in text for text in offered)
    assert script_errors(driver) == []
