"""`flomation` for people and CI: the real command, as a process, against a real platform on loopback."""

from __future__ import annotations

import json
import re
import stat
import zipfile

import pytest
import yaml

from tests.cli.flows import division_flow, webhook_flow
from tests.runner.flows import sleep_flow


def flomation_export(flow: dict, name: str) -> dict:
    return {
        "flomation_export": {
            "version": 1,
            "source_flow_name": name,
            "author_email": "a@example.com",
            "hash": "0",
        },
        "flow_data": {"name": name, "scale": 1.0, "x": 0, "y": 0, "revision": flow},
    }


@pytest.mark.slow  # a real platform (serve --role all) per test
def test_run_wait_follows_the_steps_and_exits_with_the_outcome(platform, tmp_path):
    source = tmp_path / "divide.json"
    source.write_text(json.dumps(flomation_export(division_flow(), "Divide")))
    imported = platform.cli("workflows", "import", str(source))
    assert imported.code == 0, imported.err
    assert "Imported" in imported.out and "Divide" in imported.out

    succeeded = platform.cli("run", "Divide", "--input", "d=2", "--wait")
    assert succeeded.code == 0, succeeded.out + succeeded.err
    lines = succeeded.out.splitlines()
    assert any("arithmetic/division" in line and line.strip().startswith("ok") for line in lines)
    assert "succeeded" in lines[-1]

    failed = platform.cli("run", "Divide", "--input", "d=0", "--wait")
    assert failed.code == 3, failed.out + failed.err
    assert any("FAILED" in line and "division by zero" in line for line in failed.out.splitlines())
    assert "failed" in failed.out.splitlines()[-1]

    sleepy = tmp_path / "sleep.json"
    sleepy.write_text(json.dumps({"name": "Sleep", **sleep_flow()}))
    assert platform.cli("workflows", "import", str(sleepy)).code == 0
    waiting = platform.cli("run", "Sleep", "--input", "seconds=5", "--wait", "--timeout", "1")
    assert waiting.code == 4 and re.search(r"is still (pending|claimed|running) after 1.0 s", waiting.err)

    scripted = platform.cli("run", "Divide", "--input", "d=5", "--wait", "--json")
    assert scripted.code == 0
    assert scripted.json()["state"] == "succeeded" and scripted.json()["outputs"]["answer"] in ("2", 2)


@pytest.mark.slow  # a real platform (serve --role all) per test
def test_a_refused_run_is_one_line_and_a_non_zero_exit(platform, tmp_path):
    source = tmp_path / "divide.json"
    source.write_text(json.dumps(division_flow()))
    assert platform.cli("workflows", "import", str(source), "--name", "Divide").code == 0
    refused = platform.cli("run", "Divide", "--input", "e=1", "--wait")
    assert refused.code == 1 and refused.out == ""
    assert refused.err.startswith("flomation: ") and len(refused.err.strip().splitlines()) == 1
    assert "d" in refused.err
    broken = division_flow()
    broken["nodes"][1]["data"]["config"]["inputs"][0]["value"] = "ten"
    (tmp_path / "bad.json").write_text(json.dumps({"name": "Bad", **broken}))
    (tmp_path / "good.json").write_text(json.dumps({"name": "Good", **division_flow()}))
    refused_import = platform.cli(
        "workflows", "import", str(tmp_path / "good.json"), str(tmp_path / "bad.json")
    )
    assert (
        refused_import.code == 1
        and "bad.json: the flow is not valid: node div numerator" in refused_import.err
    )
    assert [row["name"] for row in platform.cli("workflows", "list", "--json").json()] == ["Divide"]
    unknown = platform.cli("run", "No such flow")
    assert unknown.code == 1 and "no workflow named 'No such flow'" in unknown.err


@pytest.mark.slow  # a real platform (serve --role all) per test
def test_a_workflow_goes_from_a_yaml_file_through_deploy_promote_and_rollback(platform, tmp_path):
    source = tmp_path / "hook.yaml"
    source.write_text(yaml.safe_dump({"name": "Hook", **webhook_flow()}))
    assert platform.cli("workflows", "import", str(source)).code == 0

    listed = platform.cli("workflows", "list", "--json")
    assert [row["name"] for row in listed.json()] == ["Hook"]
    assert "Hook" in platform.cli("workflows", "list").out

    deployed = platform.cli("deploy", "Hook", "--env", "staging", "--tag", "abc123")
    assert deployed.code == 0 and deployed.out.strip() == "Deployed Hook r1 to staging"
    promoted = platform.cli("promote", "Hook", "--from", "staging", "--json")
    assert promoted.code == 0 and promoted.json()["environment"]["name"] == "production"

    triggers = platform.cli("triggers", "list", "--json")
    urls = {row["environment"]["name"]: row["url"] for row in triggers.json()}
    assert set(urls) == {"staging", "production"} and all(
        url.startswith(platform.url) for url in urls.values()
    )
    table = platform.cli("triggers", "list", "Hook", "--env", "production").out
    assert urls["production"] in table and "staging" not in table

    exported = tmp_path / "out.yaml"
    assert platform.cli("workflows", "export", "Hook", "-o", str(exported)).code == 0
    assert yaml.safe_load(exported.read_text())["flow"]["nodes"][0]["type"] == "trigger/webhook"

    refused = platform.cli("rollback", "Hook", "--env", "production")
    assert refused.code == 1 and refused.err.startswith("flomation: ")
    assert len(refused.err.strip().splitlines()) == 1

    from flomation.core import models as m

    workflow = m.Workflow.objects.get(name="Hook")
    m.Revision.objects.create(workflow=workflow, number=2, flow=webhook_flow(), message="second")
    m.Workflow.objects.filter(id=workflow.id).update(latest_revision=2)
    assert (
        platform.cli("deploy", "Hook", "--env", "production").out.strip() == "Deployed Hook r2 to production"
    )
    rolled = platform.cli("rollback", "Hook", "--env", "production")
    assert rolled.code == 0 and rolled.out.strip() == "Rolled back Hook r1 to production"


@pytest.mark.slow  # a real platform (serve --role all) per test
def test_executions_can_be_listed_shown_and_read_as_a_log(platform, tmp_path):
    archive = tmp_path / "flomation_export.flomation.zip"  # Flomation's bulk export: one wrapper per flow
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("divide.json", json.dumps(flomation_export(division_flow(), "Divide")))
        bundle.writestr("hook.json", json.dumps(flomation_export(webhook_flow(), "Hook")))
    imported = platform.cli("workflows", "import", str(archive))
    assert imported.code == 0, imported.err
    assert sorted(row["name"] for row in platform.cli("workflows", "list", "--json").json()) == [
        "Divide",
        "Hook",
    ]
    run = platform.cli("run", "Divide", "--input", "d=0", "--wait", "--json").json()

    listed = platform.cli("executions", "list", "--workflow", "Divide", "--json").json()
    assert [row["id"] for row in listed] == [run["id"]]
    shown = platform.cli("executions", "show", run["id"])
    assert "failed" in shown.out and "division by zero" in shown.out
    logs = platform.cli("executions", "logs", run["id"]).out.splitlines()
    assert [tuple(line.split()[1:3]) for line in logs if not line.startswith(" ")] == [
        ("running", "trigger/manual"),
        ("success", "trigger/manual"),
        ("running", "arithmetic/division"),
        ("failed", "arithmetic/division"),
    ]
    assert any(line.strip() == "error: division by zero: the denominator is 0" for line in logs)


@pytest.mark.slow  # a real platform (serve --role all) per test
def test_login_checks_the_token_and_keeps_it_in_a_file_only_its_owner_reads(platform, tmp_path):
    config = tmp_path / "cli.json"
    env = {"FLOMATION_CLI_CONFIG": str(config)}
    bad = platform.cli(
        "login",
        "--url",
        platform.url,
        "--token-stdin",
        stdin="flo_wrong\n",
        env={**env, "FLOMATION_TOKEN": ""},
    )
    assert bad.code == 1 and "refused the token" in bad.err and not config.exists()

    from tests.cli.conftest import run_cli

    good = run_cli("login", "--url", platform.url, "--token-stdin", stdin=platform.token + "\n", env=env)
    assert good.code == 0, good.err
    assert "Acme" in good.out
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text())["organisation"] == str(platform.organisation.id)
    assert run_cli("workflows", "list", "--json", env=env).json() == []


def test_validate_reports_each_problem_with_its_node_and_needs_no_server(cli, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(division_flow()))
    broken = division_flow()
    broken["nodes"][1]["data"]["config"]["inputs"][0]["value"] = "ten"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(broken))
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"nodes": [\n,]}')

    assert cli("validate", str(good)).code == 0
    result = cli("validate", str(good), str(bad), str(malformed))
    assert result.code == 1
    assert f"{good}: valid (3 nodes)" in result.out
    assert f"{bad}: [div/numerator]" in result.out
    assert f"{malformed}: line 2: not valid JSON" in result.out
    assert cli("validate", str(bad), "--json").json()["problems"][0]["node_id"] == "div"

    archive = tmp_path / "flomation_export.flomation.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("good.json", good.read_text())
        bundle.writestr("nested/bad.yaml", bad.read_text())
        bundle.writestr("readme.txt", "not a flow")
    zipped = cli("validate", str(archive))
    assert zipped.code == 1
    assert (
        f"{archive}:good.json: valid (3 nodes)" in zipped.out
        and f"{archive}:nested/bad.yaml: [div/numerator]" in zipped.out
    )


def test_without_an_address_or_a_reachable_server_it_says_so_in_one_line(cli):
    missing = cli("workflows", "list")
    assert (
        missing.code == 1
        and missing.err.strip() == "flomation: no API address: set FLOMATION_URL or run `flomation login`"
    )
    unreachable = cli(
        "workflows", "list", env={"FLOMATION_URL": "http://127.0.0.1:9", "FLOMATION_TOKEN": "flo_x"}
    )
    assert unreachable.code == 1 and "cannot reach the API at http://127.0.0.1:9/api/v1/" in unreachable.err
    usage = cli("run")
    assert usage.code == 2


def test_the_command_is_installed_with_the_package():
    import tomllib

    from tests.support.servers import ROOT

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["flomation"].partition(":")
    assert callable(getattr(__import__(module, fromlist=[name]), name))


def test_the_command_imports_no_django_even_when_validating(tmp_path):
    import subprocess
    import sys

    from tests.support.servers import ROOT

    source = tmp_path / "f.json"
    source.write_text(json.dumps(division_flow()))
    code = (
        "import sys; from flomation.cli.main import main; main(['validate', sys.argv[1]]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(source)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


@pytest.mark.slow  # a real platform (serve --role all) per test
def test_the_organisation_is_named_by_its_slug_its_name_in_any_case_or_its_id(platform):
    organisation = platform.organisation
    for wanted in (organisation.slug, organisation.name.upper(), str(organisation.id)):
        listed = platform.cli("--org", wanted, "workflows", "list", "--json")
        assert listed.code == 0, (wanted, listed.err)
    refused = platform.cli("--org", "nowhere", "workflows", "list")
    assert refused.code == 1
    assert refused.err.strip() == "flomation: you are not a member of an organisation 'nowhere'"
