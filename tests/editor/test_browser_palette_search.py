"""In headless Chromium: the palette's search ranks nodes on the server and says how (here, with no embedding
service, by PostgreSQL full-text), above the plain name matches; Settings lists the vector collections."""

from __future__ import annotations

import pytest

from flomation.core.services.vectors import vector_operation_run
from tests.editor.test_browser import log_in, screenshot, wait

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402


def test_the_palette_ranks_a_search_and_says_it_used_full_text(platform, chrome):
    driver, base = chrome, platform
    account = log_in(driver, base)
    driver.get(base + "/workflows")
    driver.find_element(By.CSS_SELECTOR, '[data-open="new-workflow"]').click()
    driver.find_element(By.ID, "new-name").send_keys("Palette search")
    driver.find_element(By.CSS_SELECTOR, '#new-workflow button[type="submit"]').click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".palette-item")))
    driver.find_element(By.ID, "palette-search").send_keys("send an email")
    wait(driver).until(ec.visibility_of_element_located((By.ID, "palette-ranked")))
    mode = driver.find_element(By.ID, "palette-search-mode")
    assert mode.text == "Ranked by keywords (PostgreSQL full-text)"
    ranked = [
        e.get_attribute("data-action")
        for e in driver.find_elements(By.CSS_SELECTOR, "#palette-ranked .palette-item")
    ]
    assert ranked[0] in ("messaging/email/send", "common/smtp"), ranked
    screenshot(driver, "palette-search-full-text")
    driver.find_element(By.CSS_SELECTOR, "#palette-ranked .palette-item").click()
    wait(driver).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f'.drawflow-node[data-action="{ranked[0]}"]'))
    )

    organisation_id = account.memberships.get().organisation_id
    vector_operation_run(organisation_id=organisation_id, operation="create_collection",
                         payload={"name": "support-articles", "dimension": 384})  # fmt: skip
    driver.get(base + "/settings/vectors")
    row = wait(driver).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, '[data-collection="support-articles"]'))
    )
    assert "384" in row.text and "cosine" in row.text
    screenshot(driver, "settings-vector-collections")
