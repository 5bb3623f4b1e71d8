"""In headless Chromium: a trigger's secret in the property panel is a write-only field. The page never
holds the stored value; replacing it sends the new one once, and the canvas keeps only its reference."""

from __future__ import annotations

import json

import pytest

from flomation.core import models as m
from flomation.core.services.flow_secrets import flow_secret_reveal
from flomation.core.services.workflows import workflow_save
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

STORED = "stored-signing-secret-abc123"
REPLACEMENT = "replacement-secret-xyz789"


def webhook_flow() -> dict:
    inputs = [
        {"name": "authentication", "type": "string", "value": "hmac"},
        {"name": "hmac_secret", "type": "secret", "value": STORED},
    ]
    return {
        "nodes": [
            f.node("t1", "trigger/webhook", 1, inputs),
            f.node("o1", "output/set", 3, [{"name": "name", "type": "string", "value": "x"}]),
        ],
        "edges": [{"id": "e1", "source": "t1", "target": "o1"}],
    }


def latest_secret(workflow: m.Workflow) -> object:
    flow = workflow.revisions.order_by("-number").first().flow
    inputs = flow["nodes"][0]["data"]["config"]["inputs"]
    return next(item["value"] for item in inputs if item["name"] == "hmac_secret")


def test_the_panel_shows_a_trigger_secret_as_set_and_replaces_or_clears_it_without_reading_it(
    platform,  # noqa: F811
    chrome,  # noqa: F811
):
    driver, base = chrome, platform
    account = log_in(driver, base)
    workflow = m.Workflow.objects.create(organisation=account.memberships.get().organisation, name="Hooks")
    workflow_save(workflow=workflow, flow=webhook_flow(), author=None)
    driver.get(f"{base}/workflows/{workflow.id}")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".drawflow-node")) == 2)
    assert STORED not in driver.page_source
    select_node(driver, "t1")

    field = driver.find_element(By.CSS_SELECTOR, '#inspector-body [data-input="hmac_secret"]')
    status = field.find_element(By.CSS_SELECTOR, "[data-secret-status]")
    assert status.get_attribute("data-secret-status") == "set" and status.text == "Set"
    unset = driver.find_element(
        By.CSS_SELECTOR, '#inspector-body [data-input="bearer_token"] [data-secret-status]'
    )
    assert unset.text == "Not set"
    screenshot(driver, "trigger-secret-set")

    field.find_element(By.XPATH, ".//button[text()='Replace']").click()
    box = field.find_element(By.CSS_SELECTOR, 'input[type="password"]')
    box.send_keys(REPLACEMENT)
    field.find_element(By.XPATH, ".//button[text()='Use this value']").click()
    before = latest_secret(workflow)

    def saved_with_new_reference(_driver: object) -> bool:
        value = latest_secret(workflow)
        return isinstance(value, dict) and value != before

    wait(driver, 30).until(saved_with_new_reference)
    ref = latest_secret(workflow)["secret_ref"]  # type: ignore[index]
    assert flow_secret_reveal(workflow_id=workflow.id, ref=ref) == REPLACEMENT
    # Once saved, the canvas holds the reference, not the value typed.
    wait(driver, 10).until(
        lambda d: REPLACEMENT not in json.dumps(d.execute_script("return window.floCanvas.currentFlow()"))
    )

    select_node(driver, "o1")
    select_node(driver, "t1")
    field = driver.find_element(By.CSS_SELECTOR, '#inspector-body [data-input="hmac_secret"]')
    field.find_element(By.XPATH, ".//button[text()='Clear']").click()
    wait(driver, 30).until(lambda _d: latest_secret(workflow) is None)
    shown = driver.find_element(
        By.CSS_SELECTOR, '#inspector-body [data-input="hmac_secret"] [data-secret-status]'
    )
    assert shown.text == "Not set"
    assert script_errors(driver) == []
