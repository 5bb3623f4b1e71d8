"""In headless Chromium: log in, build a 3-node flow on the canvas, run it on a real runner, see it go green.

The platform runs as `manage.py serve --role all` (web roles, the api loops and the built-in runner) against
the test database. Needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)
and the `selenium` package; a failing test leaves a screenshot and the page's HTML in test-artifacts/.
"""

from __future__ import annotations

import os

import pytest

from flomation.core import models as m
from tests.core import factories as f
from tests.core.conftest import identity_token
from tests.editor.conftest import ARTIFACTS
from tests.support.browser import CHROMEDRIVER, CHROMIUM

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.skipif(
        not CHROMEDRIVER.exists(), reason="needs /usr/bin/chromedriver (apt-get install chromium-driver)"
    ),
    pytest.mark.django_db(transaction=True),
]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def log_in(driver: webdriver.Chrome, base: str) -> m.Account:
    organisation = f.OrganisationFactory(name="Browser Co")
    account = f.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    driver.get(base + "/healthz")
    driver.add_cookie({"name": "flomation-token", "value": identity_token(account), "path": "/"})
    return account


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    """With EDITOR_SCREENSHOTS=1, keeps a picture of the page for a person to look at."""
    if os.environ.get("EDITOR_SCREENSHOTS"):
        (ARTIFACTS / "screens").mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "screens" / f"{name}.png"))


def script_errors(driver: webdriver.Chrome) -> list[dict]:
    # /healthz, a JSON page opened only to set the cookie, makes Chromium ask for /favicon.ico.
    return [e for e in driver.get_log("browser") if "favicon.ico" not in e["message"]]


def wait(driver: webdriver.Chrome, seconds: float = 20) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def add_from_palette(driver: webdriver.Chrome, search: str, action: str) -> str:
    """Adds a node from the palette; returns its Flomation node id."""
    box = driver.find_element(By.ID, "palette-search")
    box.clear()
    box.send_keys(search)
    before = {
        e.get_attribute("data-node-id") for e in driver.find_elements(By.CSS_SELECTOR, ".drawflow-node")
    }
    driver.find_element(By.CSS_SELECTOR, f'.palette-item[data-action="{action}"]').click()
    node = wait(driver).until(
        lambda d: next(
            (e for e in d.find_elements(By.CSS_SELECTOR, f'.drawflow-node[data-action="{action}"]')
             if e.get_attribute("data-node-id") not in before),
            None,
        )
    )  # fmt: skip
    return node.get_attribute("data-node-id")


def set_property(driver: webdriver.Chrome, name: str, value: str) -> None:
    field = wait(driver).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f'#inspector-body [data-input="{name}"]'))
    )
    field.clear()
    field.send_keys(value)


def select_node(driver: webdriver.Chrome, node_id: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{node_id}"] .flo-title').click()
    wait(driver).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "#inspector-body"), node_id))


def connect(driver: webdriver.Chrome, source: str, target: str) -> None:
    out = driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{source}"] .outputs .output')
    into = driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{target}"] .inputs .input')
    ActionChains(driver).click_and_hold(out).move_by_offset(20, 5).move_to_element(into).release(
        into
    ).perform()


def test_an_author_builds_a_three_node_flow_runs_it_and_sees_every_step_succeed(platform, chrome):
    driver, base = chrome, platform
    log_in(driver, base)
    driver.get(base + "/workflows")
    driver.find_element(By.CSS_SELECTOR, '[data-open="new-workflow"]').click()
    driver.find_element(By.ID, "new-name").send_keys("Shout the quote")
    driver.find_element(By.CSS_SELECTOR, '#new-workflow button[type="submit"]').click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".palette-item")))

    trigger = add_from_palette(driver, "manual", "trigger/manual")
    upper = add_from_palette(driver, "upper", "string/upper_case")
    set_property(driver, "value", "${" + trigger + ".quote}")
    output = add_from_palette(driver, "set output", "output/set")
    set_property(driver, "name", "shout")
    set_property(driver, "value", "${" + upper + ".result}")
    connect(driver, trigger, upper)
    connect(driver, upper, output)
    assert len(driver.execute_script("return window.floCanvas.currentFlow().edges")) == 2

    def saved(d: webdriver.Chrome) -> bool:
        status = d.find_element(By.ID, "save-status").text
        return status.startswith("Saved revision") and not d.execute_script(
            "return window.floCanvas.isDirty()"
        )

    wait(driver, 30).until(saved)
    select_node(driver, upper)
    screenshot(driver, "canvas-built")
    assert not driver.find_elements(By.CSS_SELECTOR, ".drawflow-node.has-error")

    driver.find_element(By.ID, "run-open").click()
    driver.find_element(By.ID, "run-submit").click()
    wait(driver).until(ec.url_contains("/executions/"))
    wait(driver, 120).until(
        lambda d: (
            d.find_element(By.TAG_NAME, "body").get_attribute("data-execution-state")
            in ("succeeded", "failed")
        )
    )
    wait(driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".drawflow-node.st-success")) == 3)
    statuses = {
        e.get_attribute("data-node-id"): e.get_attribute("data-status")
        for e in driver.find_elements(By.CSS_SELECTOR, ".drawflow-node")
    }
    assert statuses == {trigger: "success", upper: "success", output: "success"}
    assert driver.find_element(By.ID, "exec-state").text == "succeeded"
    screenshot(driver, "run-succeeded")

    # The step inspector shows what the data node produced; replay walks the same steps.
    driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{upper}"]').click()
    outputs = driver.find_elements(By.CSS_SELECTOR, "#step-detail .value-section")[1]
    assert "result" in outputs.find_element(By.CSS_SELECTOR, "table.kv").text
    driver.find_element(By.ID, "mode-replay").click()
    progress = wait(driver).until(ec.presence_of_element_located((By.ID, "replay-progress")))
    total = int(progress.text.split("/")[1])
    assert progress.text == f"Step 0/{total}" and total >= 3
    driver.find_element(By.ID, "replay-next").click()
    assert driver.find_element(By.ID, "replay-progress").text == f"Step 1/{total}"
    screenshot(driver, "replay")
    assert script_errors(driver) == []


def test_the_run_dialog_asks_for_declared_inputs_and_shows_a_refusal_beside_its_field(platform, chrome):
    from selenium.webdriver.support.ui import Select

    from tests.editor.test_run_dialog import SCHEMA, with_schema

    driver, base = chrome, platform
    account = log_in(driver, base)
    organisation = account.memberships.get().organisation
    workflow = f.WorkflowFactory(
        organisation=organisation, name="Customers", revisions__flow=with_schema(SCHEMA)
    )
    driver.get(f"{base}/workflows/{workflow.id}")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".drawflow-node")) == 2)
    driver.find_element(By.ID, "run-open").click()

    def field(name: str):  # noqa: ANN202 - a Selenium element
        return wait(driver).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, f'#run-schema-fields [name="{name}"]'))
        )

    customer, priority = field("customerId"), field("priority")
    label = driver.find_element(By.CSS_SELECTOR, f'label[for="{customer.get_attribute("id")}"]').text
    assert label.startswith("customerId") and "*" in label
    assert "Customer ID to process" in driver.find_element(By.ID, "run-schema-fields").text
    assert (priority.get_attribute("type"), priority.get_attribute("value")) == ("number", "5")
    assert field("dryRun").is_selected() and not driver.find_element(By.ID, "run-generic").is_displayed()
    screenshot(driver, "run-dialog-schema")

    customer.send_keys("c-1")
    Select(field("action")).select_by_value("activate")
    priority.clear()
    priority.send_keys("11")
    driver.find_element(By.ID, "run-submit").click()
    complaint = wait(driver).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, '.run-field[data-field="priority"] .field-error'))
    )
    assert complaint.text == "must be at most 10" and priority.get_attribute("aria-invalid") == "true"
    assert driver.find_element(By.ID, "run-error").text == "Check the inputs marked below."
    assert not m.Execution.objects.exists()

    priority.clear()
    priority.send_keys("7")
    driver.find_element(By.ID, "run-submit").click()
    wait(driver).until(ec.url_contains("/executions/"))
    data = m.Execution.objects.get().trigger_data
    assert (data["customerId"], data["action"], data["priority"], data["dryRun"]) == (
        "c-1",
        "activate",
        7,
        True,
    )
    # The refused run is a 400 by design; Chromium logs it, and nothing else may go wrong.
    refused = (
        f"/workflows/{workflow.id}/run - Failed to load resource: the server responded with a status of 400"
    )
    assert [e for e in script_errors(driver) if refused not in e["message"]] == []


PAGES = ["/workflows", "/executions", "/settings/environments", "/settings/connections", "/settings/queues",
         "/settings/runners", "/settings/members", "/settings/tokens", "/settings/account", "/settings/git"]  # fmt: skip


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_renders_without_script_errors_at_common_widths(platform, chrome, width):
    driver, base = chrome, platform
    account = log_in(driver, base)
    driver.set_window_size(width, 900)
    from flomation.editor.gateway import workflows as wf
    from flomation.editor.starters import STARTERS

    organisation = account.memberships.get().organisation
    workflow = wf.workflow_create(
        organisation=organisation, name="Branchy", author=account, flow=STARTERS["webhook-branch"]["flow"]
    )
    shots = ARTIFACTS / "screens"
    if os.environ.get("EDITOR_SCREENSHOTS"):
        shots.mkdir(parents=True, exist_ok=True)
    for path in [
        *PAGES,
        f"/workflows/{workflow.id}",
        f"/workflows/{workflow.id}/deploy",
        f"/workflows/{workflow.id}/revisions",
    ]:
        driver.get(base + path)
        wait(driver).until(ec.presence_of_element_located((By.TAG_NAME, "main")))
        if path == f"/workflows/{workflow.id}":
            wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".drawflow-node")) == 4)
            assert {
                e.get_attribute("data-handle") for e in driver.find_elements(By.CSS_SELECTOR, ".output")
            } >= {"true-branch", "false-branch"}
        assert driver.find_element(By.TAG_NAME, "h1").text
        if os.environ.get("EDITOR_SCREENSHOTS"):
            driver.save_screenshot(str(shots / f"{width}{path.replace('/', '_')}.png"))
        assert script_errors(driver) == [], path
