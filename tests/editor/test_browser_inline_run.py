"""In headless Chromium: a webhook whose flow is made only of inline nodes is answered by `serve --role all`
itself, and its author reads the run (steps, outputs, where it ran) in the run view like any other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import transaction

from flomation.core import models as m
from flomation.core.signals import deployment_activated
from flomation.launch.models import Trigger
from tests.editor.conftest import serving_all
from tests.editor.test_browser import log_in, screenshot, script_errors, wait
from tests.support.browser import needs_chromium

pytestmark = [*needs_chromium, pytest.mark.django_db(transaction=True)]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402


def _node(node_id: str, action: str, kind: int, **inputs: object) -> dict[str, object]:
    config = {"id": node_id, "type": kind, "outputs": [],
              "inputs": [{"name": k, "type": "any", "value": v} for k, v in inputs.items()]}  # fmt: skip
    return {"id": node_id, "type": action, "data": {"id": node_id, "label": action, "config": config},
            "pos_x": 80 + 260 * kind, "pos_y": 160}  # fmt: skip


FLOW = {
    "nodes": [
        _node("hook", "trigger/webhook", 1, responseMode="lastNode", timeout=10000),
        _node("merge", "object/merge", 2, a="${hook.body}", b={"status": "received"}),
        _node("answer", "output/web_response", 3, body="${merge.result}", status_code=200),
    ],
    "edges": [
        {"id": "e1", "source": "hook", "target": "merge"},
        {"id": "e2", "source": "merge", "target": "answer"},
    ],
}


@pytest.fixture
def inline_platform(tmp_path: Path) -> Iterator[str]:
    with serving_all(tmp_path, workers=1, FLOMATION_INLINE_RUNS="4") as url:
        yield url


def _deployed(organisation: m.Organisation) -> str:
    with transaction.atomic():
        environment = m.Environment.objects.get(organisation=organisation, name="production")
        workflow = m.Workflow.objects.create(
            organisation=organisation, name="Order intake", latest_revision=1
        )
        revision = m.Revision.objects.create(workflow=workflow, number=1, flow=FLOW)
        deployment = m.Deployment.objects.create(
            workflow=workflow, environment=environment, revision=revision
        )
        deployment_activated.send(sender=m.Deployment, deployment=deployment)
    return Trigger.objects.get(workflow=workflow, node_id="hook").public_id


def test_an_inline_run_answers_the_webhook_and_reads_like_any_run_in_the_run_view(inline_platform, chrome):
    driver, base = chrome, inline_platform
    account = log_in(driver, base)
    organisation = m.Membership.objects.get(account=account).organisation
    public_id = _deployed(organisation)

    answer = requests.post(f"{base}/launch/webhook/{public_id}", json={"order": "A-1001"}, timeout=20)
    assert answer.status_code == 200 and answer.json() == {"order": "A-1001", "status": "received"}
    execution = m.Execution.objects.get(workflow__organisation=organisation)
    assert execution.state == "succeeded" and execution.runner.name.endswith("(web)")

    driver.get(f"{base}/executions/{execution.id}")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#step-list li")) >= 3)
    assert driver.find_element(By.ID, "exec-state").text == "succeeded"
    assert driver.find_element(By.ID, "exec-runner").text.endswith("(web)")
    steps = driver.find_elements(By.CSS_SELECTOR, "#step-list li")
    merge = next(step for step in steps if "merge" in step.text.lower())
    merge.click()
    detail = wait(driver).until(
        lambda d: (
            d.find_element(By.ID, "step-detail")
            if "A-1001" in d.find_element(By.ID, "step-detail").text
            else None
        )
    )
    assert "received" in detail.text
    screenshot(driver, "inline-run")
    assert script_errors(driver) == []
