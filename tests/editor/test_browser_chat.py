"""In headless Chromium: the palette shows the chat services with their icons; an author picks a stored
Slack connection in a Send Slack Message node, runs the flow on the built-in runner against a loopback
stand-in for Slack's Web API, and reads the message's timestamp in the run view."""

from __future__ import annotations

import pytest

from flomation.core import models as m
from flomation.core.services.connections import connection_create
from tests.editor.test_browser import (
    add_from_palette,
    connect,
    log_in,
    screenshot,
    script_errors,
    select_node,
    set_property,
    wait,
)
from tests.executor.integrations.chat_servers import BOT_TOKEN, body_json, ok, serving
from tests.support.browser import needs_chromium

pytestmark = [*needs_chromium, pytest.mark.django_db(transaction=True)]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

SERVICES = {"slack": "slack.svg", "microsoft teams": "teams.svg", "telegram": "telegram.svg",
            "discord": "discord.svg", "twilio": "twilio.svg"}  # fmt: skip


def test_the_palette_shows_the_chat_services_and_a_slack_node_runs_with_a_picked_connection(platform, chrome):
    driver, base = chrome, platform
    account = log_in(driver, base)
    organisation = m.Membership.objects.get(account=account).organisation
    organisation.egress_allow = ["127.0.0.0/8"]  # the Slack stand-in listens on loopback
    organisation.save(update_fields=["egress_allow"])
    with serving() as slack:
        slack.routes["/api/auth.test"] = ok({"ok": True, "user": "flobot", "team": "Acme"})
        slack.routes["/api/chat.postMessage"] = ok(
            {"ok": True, "channel": "C0DEPLOYS", "ts": "1712345678.000300"}
        )
        connection_create(organisation=organisation, name="team", type="slack",
                          fields={"bot_token": BOT_TOKEN, "base_url": slack.url + "/api"})  # fmt: skip
        driver.get(base + "/workflows")
        driver.find_element(By.CSS_SELECTOR, '[data-open="new-workflow"]').click()
        driver.find_element(By.ID, "new-name").send_keys("Announce the release")
        driver.find_element(By.CSS_SELECTOR, '#new-workflow button[type="submit"]').click()
        wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".palette-item")))

        icons = {
            group.find_element(By.TAG_NAME, "summary").text.strip().lower(): group.find_element(
                By.CSS_SELECTOR, "summary img.palette-icon"
            )
            for group in driver.find_elements(By.CSS_SELECTOR, ".palette-group")
            if group.find_elements(By.CSS_SELECTOR, "summary img.palette-icon")
        }
        assert {name: icon.get_attribute("src").rsplit("/", 1)[1] for name, icon in icons.items()} == SERVICES
        assert all(
            driver.execute_script("return arguments[0].naturalWidth", icon) > 0 for icon in icons.values()
        )
        # The chat triggers sit under "trigger" and still carry their service's icon.
        slack_trigger = driver.find_element(
            By.CSS_SELECTOR, '.palette-item[data-action="trigger/slack"] img.palette-icon'
        )
        assert slack_trigger.get_attribute("src").endswith("/slack.svg")

        trigger = add_from_palette(driver, "manual", "trigger/manual")
        post = add_from_palette(driver, "slack", "slack/send_message")
        picker = wait(driver).until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, '#inspector-body [data-connection-picker="slack"]'))
        )
        Select(picker).select_by_value("team")
        driver.find_element(By.CSS_SELECTOR, "#inspector-body [data-connection-test-node]").click()
        outcome = wait(driver).until(
            lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, "#inspector-body [data-test-result]")
                            if e.get_attribute("data-ok")), None)
        )  # fmt: skip
        assert outcome.get_attribute("data-ok") == "true", outcome.text
        assert "signed in as flobot in workspace Acme" in outcome.text
        set_property(driver, "channel_id", "C0DEPLOYS")
        set_property(driver, "message", "Release *1.2* is out")
        output = add_from_palette(driver, "set output", "output/set")
        set_property(driver, "name", "ts")
        set_property(driver, "value", "${" + post + ".timestamp}")
        connect(driver, trigger, post)
        connect(driver, post, output)

        def saved(d) -> bool:
            status = d.find_element(By.ID, "save-status").text
            return status.startswith("Saved revision") and not d.execute_script(
                "return window.floCanvas.isDirty()"
            )

        wait(driver, 30).until(saved)
        box = driver.find_element(By.ID, "palette-search")
        box.clear()
        box.send_keys("slack")
        select_node(driver, post)
        assert driver.find_elements(
            By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{post}"] img.palette-icon'
        )
        screenshot(driver, "slack-node-panel")

        driver.find_element(By.ID, "run-open").click()
        driver.find_element(By.ID, "run-submit").click()
        wait(driver).until(ec.url_contains("/executions/"))
        wait(driver, 120).until(
            lambda d: (
                d.find_element(By.TAG_NAME, "body").get_attribute("data-execution-state")
                in ("succeeded", "failed")
            )
        )
        assert driver.find_element(By.ID, "exec-state").text == "succeeded"
        test, request = slack.requests
        assert test["path"] == "/api/auth.test" and request["path"] == "/api/chat.postMessage"
        assert request["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
        assert body_json(request) == {"channel": "C0DEPLOYS", "text": "Release *1.2* is out", "mrkdwn": True}
        driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{post}"]').click()
        detail = wait(driver).until(ec.presence_of_element_located((By.ID, "step-detail")))
        wait(driver).until(lambda d: "1712345678.000300" in detail.text)
        assert BOT_TOKEN not in driver.page_source
        assert driver.find_elements(
            By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{post}"] img.palette-icon'
        )
        screenshot(driver, "slack-run")
        assert script_errors(driver) == []
