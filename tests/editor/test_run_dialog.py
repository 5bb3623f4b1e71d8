"""The Run dialog asks for the manual trigger's declared inputs and shows core's complaints beside them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from flomation.core import models as m
from flomation.editor.gateway import workflows as wf
from flomation.editor.starters import STARTERS
from tests.editor.test_workflow_pages import boot_of

pytestmark = pytest.mark.django_db

SCHEMA = [
    {"name": "customerId", "type": "string", "required": True, "description": "Customer ID to process"},
    {"name": "action", "type": "string", "enum": ["activate", "deactivate", "update"], "required": True},
    {"name": "priority", "type": "number", "default": 5, "min": 1, "max": 10},
    {"name": "dryRun", "type": "boolean", "default": True},
    {"name": "payload", "type": "object", "default": {"plan": "pro"}},
]


def with_schema(schema: object) -> dict:
    """The 'Hello, world' starter with an input schema typed into its manual trigger's input_schema."""
    flow = copy.deepcopy(STARTERS["hello"]["flow"])
    flow["nodes"][0]["data"]["config"]["inputs"] = [
        {"name": "input_schema", "type": "object", "value": schema}
    ]
    return flow


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    label: str = ""
    help: str = ""
    options: list[tuple[str, str, bool]] = field(default_factory=list)


class _Form(HTMLParser):
    """The form's controls by input name, each with the text of its label and of its help."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: dict[str, Control] = {}
        self.texts: dict[str, str] = {}  # element id or label-for -> text
        self._open: list[tuple[str, str]] = []  # (kind, key) collecting text
        self._select: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("input", "select", "textarea"):
            self.controls[a["name"]] = control = Control(tag, a)
            if tag == "select":
                self._select = control
        if tag == "option" and self._select is not None:
            self._select.options.append((a["value"], "", "selected" in a))
            self._open.append(("option", ""))
        if tag == "label":
            self._open.append(("text", "label:" + a.get("for", "")))
        if tag == "p" and a.get("id"):
            self._open.append(("text", a["id"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("label", "option", "p") and self._open:
            self._open.pop()
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if not self._open:
            return
        kind, key = self._open[-1]
        if kind == "option" and self._select is not None:
            value, text, selected = self._select.options[-1]
            self._select.options[-1] = (value, (text + data).strip(), selected)
        elif kind == "text":
            self.texts[key] = (self.texts.get(key, "") + data).strip()

    def result(self) -> dict[str, Control]:
        for control in self.controls.values():
            dom_id = control.attrs.get("id", "")
            control.label = " ".join(self.texts.get("label:" + dom_id, "").split())
            control.help = self.texts.get(dom_id + "-help", "")
        return self.controls


def run_form(client, workflow: m.Workflow, flow: dict) -> dict:
    response = client.post(
        f"/workflows/{workflow.id}/run/form", {"flow": flow}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def controls_of(body: dict) -> dict[str, Control]:
    parser = _Form()
    parser.feed(body["html"])
    return parser.result()


@pytest.fixture
def customers(team) -> m.Workflow:
    return wf.workflow_create(
        organisation=team.organisation, name="Customers", author=team.owner, flow=with_schema(SCHEMA)
    )


def test_the_run_dialog_asks_for_each_declared_input_with_a_fitting_control(team, customers, browser_for):
    body = run_form(browser_for("member"), customers, with_schema(SCHEMA))
    assert body["schema"] is True and body["problem"] == ""
    controls = controls_of(body)
    assert list(controls) == ["customerId", "action", "priority", "dryRun", "payload"]

    customer = controls["customerId"]
    assert (customer.tag, customer.attrs["type"], customer.attrs["value"]) == ("input", "text", "")
    assert customer.label == "customerId * (required)" and "required" in customer.attrs
    assert customer.help == "Customer ID to process"
    assert customer.attrs["id"] + "-help" in customer.attrs["aria-describedby"]

    action = controls["action"]
    assert action.tag == "select" and action.label == "action * (required)"
    assert action.options == [
        ("", "Choose…", False),
        ("activate", "activate", False),
        ("deactivate", "deactivate", False),
        ("update", "update", False),
    ]

    priority = controls["priority"]
    assert priority.attrs["type"] == "number" and priority.label == "priority"
    assert (priority.attrs["min"], priority.attrs["max"], priority.attrs["value"]) == ("1", "10", "5")
    assert "required" not in priority.attrs

    dry_run = controls["dryRun"]
    assert dry_run.attrs["type"] == "checkbox" and "checked" in dry_run.attrs and dry_run.label == "dryRun"

    payload = controls["payload"]
    assert payload.tag == "textarea" and payload.label == "payload"
    assert '>{\n  "plan": "pro"\n}</textarea>' in body["html"].replace("&quot;", '"')


def test_the_form_follows_the_flow_on_the_canvas_not_the_saved_one(team, customers, browser_for):
    edited = with_schema(json.dumps([{"name": "seats", "type": "integer", "min": 1}]))
    controls = controls_of(run_form(browser_for("member"), customers, edited))
    assert list(controls) == ["seats"]
    assert controls["seats"].attrs["step"] == "1" and controls["seats"].attrs["min"] == "1"


def test_without_a_schema_the_dialog_falls_back_to_name_and_value_rows(team, hello, browser_for):
    body = run_form(browser_for("member"), hello, hello.revisions.get().flow)
    assert body == {"schema": False, "html": "", "problem": ""}
    page = browser_for("member").get(f"/workflows/{hello.id}")
    assert b'id="run-add-field"' in page.content
    assert boot_of(page)["urls"]["runForm"] == f"/workflows/{hello.id}/run/form"


def test_a_malformed_schema_is_explained_in_the_dialog(team, hello, browser_for):
    body = run_form(browser_for("member"), hello, with_schema([{"type": "string"}]))
    assert body["schema"] is False and "each with a name" in body["problem"]


def test_a_viewer_is_not_offered_the_run_form(team, customers, browser_for):
    response = browser_for("viewer").post(
        f"/workflows/{customers.id}/run/form", {"flow": with_schema(SCHEMA)}, content_type="application/json"
    )
    assert response.status_code == 403


def test_core_refusals_come_back_per_input_for_the_dialog_to_show_beside_each_field(
    team, customers, browser_for
):
    response = browser_for("member").post(
        f"/workflows/{customers.id}/run",
        {"trigger_data": {"action": "explode", "priority": "11", "dryRun": False}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "customerId": "is required",
        "action": "must be one of 'activate', 'deactivate', 'update'",
        "priority": "must be at most 10",
    }
    assert "priority: must be at most 10" in response.json()["error"]
    assert not m.Execution.objects.exists()


def test_what_the_form_sends_is_accepted_and_converted(team, customers, browser_for):
    response = browser_for("member").post(
        f"/workflows/{customers.id}/run",
        {"trigger_data": {"customerId": "c-1", "action": "update", "priority": "7", "dryRun": False,
                          "payload": '{"plan": "team"}'}},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    data = m.Execution.objects.get(id=response.json()["execution"]).trigger_data
    assert (data["priority"], data["dryRun"], data["payload"]) == (7, False, {"plan": "team"})
