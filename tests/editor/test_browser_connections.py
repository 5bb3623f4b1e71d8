"""In headless Chromium: an owner stores an SMTP connection, tests it, picks it in a Send Email node, runs
the flow on the built-in runner against a real SMTP server, and reads the result in the run view."""

from __future__ import annotations

import pytest

from flomation.core import models as m
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
from tests.support.browser import needs_chromium
from tests.support.mail import PASSWORD, USER, smtp_server

pytestmark = [*needs_chromium, pytest.mark.django_db(transaction=True)]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


def fill(driver, element_id: str, value: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)


def test_a_stored_connection_is_created_tested_picked_and_used_by_a_run(platform, chrome, tmp_path):
    driver, base = chrome, platform
    account = log_in(driver, base)
    organisation = m.Membership.objects.get(account=account).organisation
    organisation.egress_allow = ["127.0.0.0/8"]  # the test's mail server listens on loopback
    organisation.save(update_fields=["egress_allow"])
    with smtp_server(tmp_path, auth=True) as server:
        driver.get(base + "/settings/connections")
        fill(driver, "conn-name", "mail")
        Select(driver.find_element(By.ID, "conn-type")).select_by_value("smtp")
        fill(driver, "new-smtp-host", "127.0.0.1")
        fill(driver, "new-smtp-port", str(server.port))
        Select(driver.find_element(By.ID, "new-smtp-security")).select_by_value("none")
        fill(driver, "new-smtp-username", USER)
        fill(driver, "new-smtp-password", PASSWORD)
        fill(driver, "new-smtp-from_address", "robot@example.com")
        screenshot(driver, "connections-new")
        driver.find_element(By.CSS_SELECTOR, "#connection-create button[type=submit]").click()
        row = wait(driver).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-connection="mail"]'))
        )
        assert f"127.0.0.1:{server.port}" in row.text and PASSWORD not in driver.page_source
        row.find_element(By.CSS_SELECTOR, "[data-connection-test]").click()
        wait(driver).until(
            lambda d: row.find_element(By.CSS_SELECTOR, "[data-test-result]").get_attribute("data-ok")
        )
        result = row.find_element(By.CSS_SELECTOR, "[data-test-result]")
        assert result.get_attribute("data-ok") == "true", result.text
        assert f"connected to 127.0.0.1:{server.port} (no encryption) as {USER}" in result.text
        screenshot(driver, "connections-tested")

        driver.get(base + "/workflows")
        driver.find_element(By.CSS_SELECTOR, '[data-open="new-workflow"]').click()
        driver.find_element(By.ID, "new-name").send_keys("Mail the team")
        driver.find_element(By.CSS_SELECTOR, '#new-workflow button[type="submit"]').click()
        wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".palette-item")))
        trigger = add_from_palette(driver, "manual", "trigger/manual")
        send = add_from_palette(driver, "email", "messaging/email/send")
        picker = wait(driver).until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, '#inspector-body [data-connection-picker="smtp"]'))
        )
        Select(picker).select_by_value("mail")
        set_property(driver, "to", "team@example.com")
        set_property(driver, "subject", "Picked in the panel")
        driver.find_element(By.CSS_SELECTOR, "#inspector-body [data-connection-test-node]").click()
        outcome = wait(driver).until(
            lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, "#inspector-body [data-test-result]")
                            if e.get_attribute("data-ok")), None)
        )  # fmt: skip
        assert outcome.get_attribute("data-ok") == "true" and "all environments: ✓ connected" in outcome.text
        types = {  # each input shows its type beside its name
            label.get_attribute("for"): label.find_element(By.CSS_SELECTOR, ".input-type").text
            for label in driver.find_elements(By.CSS_SELECTOR, "#inspector-body .prop > label")
            if label.find_elements(By.CSS_SELECTOR, ".input-type")
        }
        assert "smtp connection" in types.values() and "string" in types.values(), types
        screenshot(driver, "connection-picker")
        output = add_from_palette(driver, "set output", "output/set")
        set_property(driver, "name", "report")
        set_property(driver, "value", "${" + send + ".tool_result}")
        connect(driver, trigger, send)
        connect(driver, send, output)

        def saved(d) -> bool:
            status = d.find_element(By.ID, "save-status").text
            return status.startswith("Saved revision") and not d.execute_script(
                "return window.floCanvas.isDirty()"
            )

        wait(driver, 30).until(saved)
        select_node(driver, send)
        picked = Select(
            driver.find_element(By.CSS_SELECTOR, '#inspector-body [data-connection-picker="smtp"]')
        )
        assert picked.first_selected_option.get_attribute("value") == "mail"

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
        (message,) = server.messages
        assert message["Subject"] == "Picked in the panel" and message["From"] == "robot@example.com"
        driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{send}"]').click()
        detail = wait(driver).until(ec.presence_of_element_located((By.ID, "step-detail")))
        wait(driver).until(lambda d: "sent to 1 recipient(s)" in detail.text)
        assert PASSWORD not in driver.page_source
        screenshot(driver, "connection-run")
        assert script_errors(driver) == []
