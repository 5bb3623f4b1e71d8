"""In headless Chromium: the Audit settings page lists what was changed, filters it and offers exports."""

from __future__ import annotations

import pytest

from flomation.core import models as m
from flomation.core.services.secrets import secret_set, variable_set
from flomation.lib.audit_context import Actor, bound
from tests.editor.test_browser import log_in, screenshot, script_errors, wait
from tests.support.browser import needs_chromium

pytestmark = [*needs_chromium, pytest.mark.django_db(transaction=True)]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402


def test_the_audit_page_lists_filters_and_exports_the_organisations_changes(platform, chrome):
    account = log_in(chrome, platform)
    organisation = m.Membership.objects.get(account=account).organisation
    env = organisation.environments.get(name="production")
    with bound(actor=Actor("user", id=str(account.id), label=account.email, account=str(account.id))):
        secret_set(environment=env, name="STRIPE_KEY", value="sk-live-not-shown")
        variable_set(environment=env, name="REGION", value="eu-west-1")
    chrome.get(platform + "/settings/audit")
    rows = wait(chrome).until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.audit tbody tr"))
    actions = [row.find_element(By.CSS_SELECTOR, "td:nth-child(3)").text for row in rows]
    assert actions[:2] == ["variable.set", "secret.set"]
    assert "sk-live-not-shown" not in chrome.page_source
    screenshot(chrome, "settings-audit")
    box = chrome.find_element(By.ID, "a-action")
    box.send_keys("secret.*")
    chrome.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait(chrome).until(lambda d: "action=secret" in d.current_url)
    rows = chrome.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, "td:nth-child(3)").text for row in rows] == ["secret.set"]
    exports = [a.get_attribute("href") for a in chrome.find_elements(By.CSS_SELECTOR, ".export-links a")]
    assert any("format=csv" in href and "action=secret" in href for href in exports)
    assert any("format=json" in href for href in exports)
    screenshot(chrome, "settings-audit-filtered")
    assert script_errors(chrome) == []
