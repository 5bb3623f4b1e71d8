"""In headless Chromium: an author puts an AI Agent on the canvas, picks a stored openai connection in its
panel, wires a node to its tools handle, runs the flow on the built-in runner against a loopback model API,
watches the reply being written in the run view, and reads the agent's trail and its token count."""

from __future__ import annotations

import pytest

from flomation.core import models as m
from flomation.core.services.connections import connection_create
from tests.editor.test_browser import (
    add_from_palette,
    log_in,
    screenshot,
    script_errors,
    select_node,
    set_property,
    wait,
)
from tests.support.browser import needs_chromium
from tests.support.model_api import model_api, openai_completion

pytestmark = [*needs_chromium, pytest.mark.django_db(transaction=True), pytest.mark.slow]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

KEY = "sk-browser-agent-secret-9"
WORDS = ["The ", "word ", "in ", "capitals ", "is ", "HELLO", "."]


def connect_port(driver, source: str, port: int, target: str) -> None:
    out = driver.find_element(
        By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{source}"] .outputs .output_{port}'
    )
    into = driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{target}"] .inputs .input')
    ActionChains(driver).click_and_hold(out).move_by_offset(20, 5).move_to_element(into).release(
        into
    ).perform()


def test_an_agent_is_configured_in_the_panel_and_its_streamed_reply_and_trail_show_in_the_run_view(
    platform, chrome
):
    driver, base = chrome, platform
    account = log_in(driver, base)
    organisation = m.Membership.objects.get(account=account).organisation
    organisation.egress_allow = ["127.0.0.0/8"]  # the test's model API listens on loopback
    organisation.save(update_fields=["egress_allow"])
    with model_api() as api:
        connection_create(
            organisation=organisation,
            name="llm",
            type="openai",
            fields={"base_url": f"{api.url}/v1", "api_key": KEY, "model": "gpt-test"},
        )
        call = [{"id": "c1", "name": "string_upper_case", "arguments": {"value": "hello"}}]
        api.reply(
            "/v1/chat/completions", openai_completion(tool_calls=call, prompt_tokens=40, completion_tokens=8)
        )
        chunk = {"object": "chat.completion.chunk", "model": "gpt-test"}
        stream = [("", {**chunk, "choices": [{"index": 0, "delta": {"content": w}}]}) for w in WORDS]
        stream += [
            ("", {**chunk, "choices": [], "usage": {"prompt_tokens": 60, "completion_tokens": 9}}),
            ("", "[DONE]"),
        ]
        api.reply("/v1/chat/completions", stream, pause=0.6)

        driver.get(base + "/workflows")
        driver.find_element(By.CSS_SELECTOR, '[data-open="new-workflow"]').click()
        driver.find_element(By.ID, "new-name").send_keys("Ask the agent")
        driver.find_element(By.CSS_SELECTOR, '#new-workflow button[type="submit"]').click()
        wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".palette-item")))
        trigger = add_from_palette(driver, "manual", "trigger/manual")
        agent = add_from_palette(driver, "agent", "ai/agent")
        picker = wait(driver).until(
            ec.element_to_be_clickable(
                (By.CSS_SELECTOR, '#inspector-body [data-connection-picker="openai anthropic"]')
            )
        )
        Select(picker).select_by_value("llm")
        set_property(driver, "system_prompt", "Use the shout tool.")
        set_property(driver, "prompt", "Write hello in capitals.")
        screenshot(driver, "agent-panel")
        shout = add_from_palette(driver, "upper", "string/upper_case")
        connect_port(driver, trigger, 1, agent)
        connect_port(driver, agent, 2, shout)
        wait(driver, 30).until(
            lambda d: (
                d.find_element(By.ID, "save-status").text.startswith("Saved revision")
                and not d.execute_script("return window.floCanvas.isDirty()")
            )
        )
        edges = driver.execute_script("return window.floCanvas.currentFlow().edges")
        assert {(e["source"], e["target"], e.get("sourceHandle")) for e in edges} == {
            (trigger, agent, None),
            (agent, shout, "tools"),
        }
        select_node(driver, agent)
        screenshot(driver, "agent-canvas")

        driver.find_element(By.ID, "run-open").click()
        driver.find_element(By.ID, "run-submit").click()
        wait(driver).until(ec.url_contains("/executions/"))
        node = wait(driver, 30).until(
            ec.presence_of_element_located(
                (By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{agent}"][data-status="streaming"]')
            )
        )
        node.find_element(By.CSS_SELECTOR, ".flo-title").click()
        live = wait(driver, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-live-reply]")))
        wait(driver, 10).until(lambda d: live.text.strip() and live.text.strip() != "".join(WORDS))
        screenshot(driver, "agent-streaming")
        wait(driver, 60).until(
            lambda d: (
                d.find_element(By.TAG_NAME, "body").get_attribute("data-execution-state")
                in ("succeeded", "failed")
            )
        )
        assert driver.find_element(By.ID, "exec-state").text == "succeeded"
        detail = driver.find_element(By.ID, "step-detail")
        wait(driver, 10).until(lambda d: "The word in capitals is HELLO." in detail.text)
        records = driver.find_elements(By.CSS_SELECTOR, "#step-detail .step-record")
        assert [r.find_element(By.CSS_SELECTOR, ".badge").text for r in records] == [
            "model_call",
            "model_call",
            "success",
        ]
        assert (
            driver.find_element(By.CSS_SELECTOR, f'.drawflow-node[data-node-id="{shout}"]').get_attribute(
                "data-status"
            )
            == "success"
        )
        screenshot(driver, "agent-run")
        assert KEY not in driver.page_source

        driver.get(base + "/executions")
        row = wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "td.tokens")))
        assert row.text == "117"
        screenshot(driver, "executions-tokens")
        assert script_errors(driver) == []
