"""In headless Chromium: an author picks an app-event preset for a webhook in the property panel (only the
settings that preset reads are shown), stores its signing secret, deploys, and the published webhook accepts
GitHub's signature and refuses a forged one; a Slack trigger's panel offers its secrets and its address."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests
from selenium.webdriver.support.ui import Select

from flomation.core import models as m
from flomation.editor.gateway import deployments as deploys
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
from tests.editor.test_browser_trigger_panel import latest_inputs, open_canvas, two_nodes

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists() or not CHROMEDRIVER.exists(), reason="needs chromium"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

SECRET = "gh-webhook-secret-typed-in-panel"


def shown(driver, name: str) -> bool:  # noqa: ANN001 - a WebDriver
    field = driver.find_element(By.CSS_SELECTOR, f'#inspector-body [data-input="{name}"]')
    return driver.execute_script("return !arguments[0].closest('.prop').hidden", field)


def deploy_and_reopen(driver, base: str, workflow: m.Workflow, account: m.Account) -> str:  # noqa: ANN001
    """Deploys the latest revision, opens the canvas again and returns the trigger's production URL."""
    deploys.workflow_deploy(
        workflow=workflow,
        environment=deploys.environment_list(organisation=workflow.organisation)[0],
        revision_number=workflow.revisions.order_by("-number").first().number,
        version_tag="v1",
        notes="",
        by=account,
    )
    driver.get(f"{base}/workflows/{workflow.id}")
    found = wait(driver).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '.drawflow-node[data-node-id="t1"] .flo-url-production')
    )
    return found[0].get_attribute("title")


def test_an_author_picks_the_github_preset_and_the_published_webhook_checks_githubs_signature(
    platform, chrome
):
    driver, base = chrome, platform
    account = log_in(driver, base)
    workflow = open_canvas(driver, base, account, two_nodes("trigger/webhook"), "Pushes")
    select_node(driver, "t1")

    preset = Select(driver.find_element(By.CSS_SELECTOR, '#inspector-body select[data-input="preset"]'))
    offered = [o.get_attribute("value") for o in preset.options]
    assert {
        "github",
        "gitlab",
        "stripe",
        "shopify",
        "slack",
        "twilio",
        "standard_webhooks",
        "generic_hmac",
    } <= set(offered)
    assert not shown(driver, "signature_header") and not shown(driver, "signature_tolerance")
    assert shown(driver, "authentication") and shown(driver, "bearer_token")
    preset.select_by_value("generic_hmac")
    assert shown(driver, "signature_header") and shown(driver, "signature_algorithm")
    screenshot(driver, "webhook-preset-generic-hmac")
    preset.select_by_value("github")
    assert not shown(driver, "signature_header") and not shown(driver, "signature_url")
    assert not shown(driver, "authentication") and not shown(driver, "api_key")

    field = driver.find_element(By.CSS_SELECTOR, '#inspector-body [data-input="hmac_secret"]')
    field.find_element(By.XPATH, ".//button[text()='Set a value']").click()
    field.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys(SECRET)
    field.find_element(By.XPATH, ".//button[text()='Use this value']").click()
    wait(driver, 30).until(
        lambda _d: (
            latest_inputs(workflow).get("preset") == "github"
            and isinstance(latest_inputs(workflow).get("hmac_secret"), dict)
        )
    )
    screenshot(driver, "webhook-preset-github")
    url = deploy_and_reopen(driver, base, workflow, account)

    body = json.dumps({"ref": "refs/heads/main"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "72d3162e"}
    good = requests.post(url, data=body, headers={**headers, "X-Hub-Signature-256": signature}, timeout=10)
    forged = requests.post(
        url, data=body, headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}, timeout=10
    )
    assert good.status_code == 202, good.text
    assert forged.status_code == 401
    execution = m.Execution.objects.get(workflow=workflow)
    assert execution.trigger_data["event"] == "push" and execution.trigger_data["delivery_id"] == "72d3162e"
    assert SECRET not in driver.page_source
    assert script_errors(driver) == []


def test_a_slack_trigger_shows_its_secrets_and_once_deployed_its_request_url(platform, chrome):
    driver, base = chrome, platform
    account = log_in(driver, base)
    workflow = open_canvas(driver, base, account, two_nodes("trigger/slack"), "Slack asks")
    select_node(driver, "t1")
    for name in ("signing_secret", "bot_token"):
        field = driver.find_element(By.CSS_SELECTOR, f'#inspector-body [data-input="{name}"]')
        assert field.find_element(By.XPATH, ".//button[text()='Set a value']")
    field = driver.find_element(By.CSS_SELECTOR, '#inspector-body [data-input="signing_secret"]')
    field.find_element(By.XPATH, ".//button[text()='Set a value']").click()
    field.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys("slack-signing-secret")
    field.find_element(By.XPATH, ".//button[text()='Use this value']").click()
    wait(driver, 30).until(lambda _d: isinstance(latest_inputs(workflow).get("signing_secret"), dict))
    url = deploy_and_reopen(driver, base, workflow, account)
    assert "/launch/slack/" in url
    select_node(driver, "t1")
    screenshot(driver, "slack-trigger-panel")
    unsigned = requests.post(url, json={"type": "url_verification", "challenge": "c"}, timeout=10)
    assert unsigned.status_code == 401
    assert script_errors(driver) == []
