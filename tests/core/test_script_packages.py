"""The operator's script packages: installed by a management command, importable by scripts, listed in the
node manifest, and never taken from a flow."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from flomation.executor import ExecutorSettings, manifest, run_flow


def python_flow(code: str) -> dict:
    def node(node_id: str, action: str, kind: int, inputs: list) -> dict:
        return {
            "id": node_id,
            "type": action,
            "data": {"label": action, "config": {"type": kind, "inputs": inputs}},
        }

    return {
        "nodes": [
            node("t", "trigger/manual", 1, []),
            node("p", "script/python", 2, [{"name": "code", "type": "code", "value": code}]),
        ],
        "edges": [{"id": "e", "source": "t", "target": "p"}],
    }


def test_installed_packages_are_importable_by_scripts_read_only_and_listed_in_the_manifest(
    settings, tmp_path, monkeypatch
):
    directory = tmp_path / "script-packages"
    settings.SCRIPT_REQUIREMENTS = ["six==1.17.0"]
    settings.SCRIPT_PACKAGES_DIR = directory
    call_command("install_script_packages")
    code = (
        "import six\n"
        "try:\n"
        "    open(six.__file__, 'a')\n"
        "    writable = True\n"
        "except OSError:\n"
        "    writable = False\n"
        "return {'version': six.__version__, 'where': six.__file__, 'writable': writable}"
    )
    without = run_flow(python_flow(code), settings=ExecutorSettings(log=lambda *a: None))
    assert without.status == "failed" and "No module named 'six'" in without.error
    result = run_flow(
        python_flow(code), settings=ExecutorSettings(script_packages_dir=str(directory), log=lambda *a: None)
    )
    assert result.status == "succeeded", result.error
    assert result.node_results["p"]["outputs"]["result"] == {
        "version": "1.17.0",
        "where": "/opt/flomation/packages/six.py",
        "writable": False,
    }
    monkeypatch.setenv("FLOMATION_SCRIPT_PACKAGES_DIR", str(directory))
    assert manifest()["scripts"]["python_packages"] == [{"name": "six", "version": "1.17.0"}]


@pytest.mark.parametrize(
    "requirement", ["--index-url=http://127.0.0.1:9/simple", "six @ http://127.0.0.1:9/six.whl", "../six"]
)
def test_a_requirement_that_is_not_a_package_name_is_refused_and_nothing_changes(
    settings, tmp_path, requirement
):
    directory = tmp_path / "script-packages"
    directory.mkdir()
    (directory / "kept.txt").write_text("previous set")
    settings.SCRIPT_REQUIREMENTS = [requirement]
    settings.SCRIPT_PACKAGES_DIR = directory
    with pytest.raises(CommandError, match="is not a package requirement"):
        call_command("install_script_packages")
    assert (directory / "kept.txt").read_text() == "previous set"


def test_a_failed_install_keeps_the_previous_packages(settings, tmp_path):
    directory = tmp_path / "script-packages"
    directory.mkdir()
    (directory / "kept.txt").write_text("previous set")
    settings.SCRIPT_REQUIREMENTS = ["flomation-no-such-package-anywhere==0.0.1"]
    settings.SCRIPT_PACKAGES_DIR = directory
    with pytest.raises(CommandError, match="pip could not install flomation-no-such-package-anywhere"):
        call_command("install_script_packages")
    assert (directory / "kept.txt").read_text() == "previous set"
    assert not (tmp_path / "script-packages.new").exists()


def test_a_runner_without_django_installs_the_same_way(tmp_path, capsys):
    from flomation.executor.sandbox.packages import main

    directory = tmp_path / "packages"
    assert main([str(directory), "six==1.17.0"]) == 0
    assert "script packages in" in capsys.readouterr().out and (directory / "six.py").is_file()
    assert main([str(directory), "--index-url=http://127.0.0.1:9/"]) == 1
    assert "is not a package requirement" in capsys.readouterr().err
    assert (directory / "six.py").is_file()
