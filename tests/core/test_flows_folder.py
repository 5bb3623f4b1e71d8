"""FLOWS_PATH: a folder of flow files loaded by the api role's loop into FLOWS_ORGANISATION; each changed file
becomes a revision and a deployment, a bad file (reported with file and line) deploys nothing, a removed
file pauses its workflow, and managed workflows refuse saves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from flomation.core import models as m
from flomation.core.loops import flows_folder
from flomation.core.models import FlowSource
from flomation.core.services.errors import ManagedInFiles
from flomation.core.services.workflows import workflow_save
from tests.core import factories as f


def flow_yaml(value: str, *, name: str = "Orders", environment: str | None = None) -> str:
    document = {"format": "flomation-workflow", "name": name, "flow": f.flow(value=value)}
    if environment:
        document["environment"] = environment
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture
def folder(tmp_path, settings, cast):
    settings.FLOWS_PATH = str(tmp_path)
    settings.FLOWS_ORGANISATION = cast.organisation.slug
    settings.FLOWS_ENVIRONMENT = "production"
    return tmp_path


def run_loop() -> bool:
    """One iteration of the loop; the source is made due again as if its poll interval had passed."""
    FlowSource.objects.update(next_check_at="2000-01-01T00:00:00Z")
    return flows_folder.handle_one()


def managed(cast, path: str) -> m.Workflow:
    return m.Workflow.objects.get(organisation=cast.organisation, source_path=path)


def current_value(workflow: m.Workflow, environment: str = "production") -> str:
    deployment = workflow.deployments.get(is_current=True, environment__name=environment)
    return deployment.revision.flow["nodes"][1]["data"]["config"]["inputs"][1]["value"]


def test_the_loop_deploys_every_file_of_the_folder_at_start(folder, cast):
    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    (folder / "sub").mkdir()
    (folder / "sub" / "billing.json").write_text(
        json.dumps({"name": "Billing", "environment": "staging", "flow": f.flow(value="b1")})
    )
    (folder / "notes.txt").write_text("not a flow")

    assert run_loop() is True
    orders, billing = managed(cast, "orders.yaml"), managed(cast, "sub/billing.json")
    assert (orders.name, orders.state, current_value(orders)) == ("Orders", "active", "v1")
    assert (billing.name, current_value(billing, "staging")) == ("Billing", "b1")
    source = FlowSource.objects.get(organisation=cast.organisation)
    assert (source.kind, source.status, source.errors) == ("folder", "synced", [])


def test_an_unchanged_folder_makes_no_new_revision_and_a_changed_file_deploys_a_new_one(folder, cast):
    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    (folder / "other.yaml").write_text(flow_yaml("o1", name="Other"))
    run_loop()
    assert run_loop() is False
    other_revisions = managed(cast, "other.yaml").revisions.count()

    (folder / "orders.yaml").write_text(flow_yaml("v2"))
    assert run_loop() is True
    orders = managed(cast, "orders.yaml")
    assert current_value(orders) == "v2"
    assert orders.revisions.count() == 2
    assert managed(cast, "other.yaml").revisions.count() == other_revisions  # unchanged file, no revision


def test_a_bad_file_is_reported_with_its_file_and_line_and_nothing_is_deployed(folder, cast):
    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    run_loop()
    (folder / "orders.yaml").write_text(flow_yaml("v2"))
    (folder / "broken.yaml").write_text("name: Broken\nflow:\n  nodes: []\n    edges: []\n")

    run_loop()
    source = FlowSource.objects.get(organisation=cast.organisation)
    assert source.status == "failed"
    [problem] = source.errors
    assert problem["file"] == "broken.yaml" and problem["line"] == 4
    assert "not valid YAML" in problem["message"]
    assert current_value(managed(cast, "orders.yaml")) == "v1"  # the good change waits for the bad file
    assert not m.Workflow.objects.filter(name="Broken").exists()


def test_a_flow_that_does_not_validate_names_the_node_and_its_line(folder, cast):
    flow = f.flow(value="v1")
    flow["nodes"].append(f.node("mystery", "nope/unknown", 2))
    text = json.dumps({"name": "Orders", "flow": flow}, indent=2)
    (folder / "orders.json").write_text(text)

    run_loop()
    source = FlowSource.objects.get(organisation=cast.organisation)
    [problem] = source.errors
    assert problem["file"] == "orders.json" and problem["node_id"] == "mystery"
    assert text.splitlines()[problem["line"] - 1].strip() == '"id": "mystery",'
    assert not m.Workflow.objects.filter(organisation=cast.organisation).exists()


def test_a_json_syntax_error_carries_its_line(folder, cast):
    (folder / "orders.json").write_text('{\n  "name": "Orders",\n  "flow": {"nodes": [}\n}\n')
    run_loop()
    [problem] = FlowSource.objects.get(organisation=cast.organisation).errors
    assert (problem["file"], problem["line"]) == ("orders.json", 3)


def test_yaml_aliases_are_refused(folder, cast):
    (folder / "bomb.yaml").write_text("a: &a [x, x]\nb: [*a, *a]\nname: Bomb\n")
    run_loop()
    [problem] = FlowSource.objects.get(organisation=cast.organisation).errors
    assert problem["line"] == 2 and "aliases" in problem["message"]


def test_an_unknown_environment_deploys_nothing(folder, cast):
    (folder / "orders.yaml").write_text(flow_yaml("v1", environment="moon"))
    run_loop()
    [problem] = FlowSource.objects.get(organisation=cast.organisation).errors
    assert "no environment 'moon'" in problem["message"]


def test_a_removed_file_pauses_its_workflow_and_bringing_it_back_resumes_it(folder, cast):
    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    run_loop()
    (folder / "orders.yaml").unlink()

    run_loop()
    orders = managed(cast, "orders.yaml")
    assert orders.state == "paused"
    assert orders.deployments.filter(is_current=True).exists()  # paused, not deleted

    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    run_loop()
    assert managed(cast, "orders.yaml").state == "active"


def test_a_managed_workflow_refuses_saves_except_from_its_source(folder, cast):
    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    run_loop()
    orders = managed(cast, "orders.yaml")
    with pytest.raises(ManagedInFiles, match=r"managed in files \(orders.yaml in the flows folder\)"):
        workflow_save(workflow=orders, flow=f.flow(value="by hand"), author=cast.owner)


def test_saving_a_managed_workflow_over_the_api_answers_409_saying_why(folder, cast, as_):
    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    run_loop()
    orders = managed(cast, "orders.yaml")

    response = as_("owner").post(
        cast.url(f"workflows/{orders.id}/revisions/"), {"flow": f.flow(value="x")}, format="json"
    )
    assert response.status_code == 409
    assert "managed in files" in response.json()["detail"]
    detail = as_("owner").get(cast.url(f"workflows/{orders.id}/")).json()
    assert detail["managed_in_files"] == {"kind": "folder", "path": "orders.yaml", "commit": ""}


def test_the_export_of_a_managed_workflow_is_a_flow_file_that_loads_back(folder, cast, as_):
    (folder / "orders.yaml").write_text(flow_yaml("v1", environment="staging"))
    run_loop()
    orders = managed(cast, "orders.yaml")
    exported = as_("owner").get(cast.url(f"workflows/{orders.id}/export")).json()
    assert exported["environment"] == "staging" and exported["name"] == "Orders"

    (folder / "orders.yaml").unlink()
    (folder / "copy.json").write_text(json.dumps(exported))
    run_loop()
    assert current_value(managed(cast, "copy.json"), "staging") == "v1"


def test_without_the_organisation_nothing_is_loaded(tmp_path, settings, db):
    settings.FLOWS_PATH = str(tmp_path)
    settings.FLOWS_ORGANISATION = "nobody"
    (tmp_path / "orders.yaml").write_text(flow_yaml("v1"))
    assert flows_folder.handle_one() is False
    assert not m.Workflow.objects.exists()


def test_a_glob_selects_files_named_from_its_fixed_folder(tmp_path, settings, cast):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "a.yaml").write_text(flow_yaml("a", name="A"))
    (tmp_path / "flows" / "b.json").write_text(json.dumps({"name": "B", "flow": f.flow()}))
    settings.FLOWS_PATH = str(tmp_path / "flows" / "*.yaml")
    settings.FLOWS_ORGANISATION = cast.organisation.slug
    run_loop()
    assert [w.source_path for w in m.Workflow.objects.filter(organisation=cast.organisation)] == ["a.yaml"]


def test_files_in_hidden_folders_are_not_flows(folder, cast):
    (folder / ".git").mkdir()
    (folder / ".git" / "x.json").write_text("{not json")
    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    run_loop()
    assert FlowSource.objects.get(organisation=cast.organisation).status == "synced"


def test_a_flomation_export_in_the_folder_deploys_to_its_environment(folder, cast):
    export = {
        "flomation_export": {"version": 1, "source_flow_name": "Legacy", "environment_name": "staging"},
        "flow_data": {"name": "Legacy", "revision": json.dumps(f.flow(value="from flomation"))},
    }
    (folder / "legacy.json").write_text(json.dumps(export))
    run_loop()
    legacy = managed(cast, "legacy.json")
    assert (legacy.name, current_value(legacy, "staging")) == ("Legacy", "from flomation")


def test_a_misspelt_key_is_reported_on_its_line(folder, cast):
    (folder / "orders.yaml").write_text(flow_yaml("v1") + "enviroment: staging\n")
    run_loop()
    [problem] = FlowSource.objects.get(organisation=cast.organisation).errors
    assert "unknown key 'enviroment'" in problem["message"]
    assert problem["line"] == len(flow_yaml("v1").splitlines()) + 1


def test_the_example_in_the_documentation_deploys(folder, cast):
    text = (Path(__file__).parents[2] / "docs" / "flows-as-code.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (folder / "order-alerts.yaml").write_text(example)
    run_loop()
    source = FlowSource.objects.get(organisation=cast.organisation)
    assert source.errors == []
    workflow = managed(cast, "order-alerts.yaml")
    assert (workflow.name, workflow.state) == ("Order alerts", "active")


def test_the_api_role_runs_the_folder_and_git_loops():
    from flomation.roles import loop_callables

    loops = dict(loop_callables(["api"]))
    assert loops["api:flows_folder"] is flows_folder
    assert "api:git_sync" in loops
    assert "api:git_sync" not in dict(loop_callables(["launch", "editor"]))


def test_deleting_the_folder_source_in_the_admin_hands_its_workflows_back_to_the_editor(
    folder, cast, admin_client
):
    (folder / "orders.yaml").write_text(flow_yaml("v1"))
    run_loop()
    source = FlowSource.objects.get(organisation=cast.organisation)
    assert admin_client.get(f"/admin/core/flowsource/{source.id}/change/").status_code == 200
    answer = admin_client.post(f"/admin/core/flowsource/{source.id}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    orders = m.Workflow.objects.get(organisation=cast.organisation, name="Orders")
    assert (orders.source_id, orders.source_path, orders.state) == (None, "", "active")
    workflow_save(workflow=orders, flow=f.flow(value="by hand"), author=cast.owner)


def test_a_flows_path_that_matches_nothing_is_a_system_check_warning(tmp_path, settings):
    from flomation.checks import check_settings

    settings.FLOWS_PATH = str(tmp_path / "nowhere" / "*.yaml")
    assert "flomation.W020" in [problem.id for problem in check_settings()]
    settings.FLOWS_PATH = str(tmp_path)
    assert "flomation.W020" not in [problem.id for problem in check_settings()]
