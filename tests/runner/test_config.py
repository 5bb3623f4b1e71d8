"""The runner's configuration (config.json and environment) and its independence from Django."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flomation.runner.config import ConfigError, load_config
from tests.runner.conftest import ROOT


def write(tmp_path, data) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_it_reads_the_seeds_config_json(tmp_path):
    path = write(
        tmp_path,
        {
            "runner": {"url": "https://api.example.com", "registration_code": "code", "name": "runner-01",
                       "checkin_timeout": 5, "certificate": "flomation-runner.pem"},
            "execution": {"max_concurrent_executors": 5, "execution_directory": "/opt/flomation/runner/workspace/",
                          "executable_name": "/opt/flomation/executor/executor", "state_directory": "/var/lib/runner"},
        },
    )  # fmt: skip
    config = load_config(path, environ={})
    assert (config.api_url, config.registration_code, config.name) == (
        "https://api.example.com",
        "code",
        "runner-01",
    )
    assert (config.checkin_timeout, config.max_concurrent_executors) == (5.0, 5)
    assert str(config.key_path) == "/var/lib/runner/flomation-runner.pem"
    assert str(config.workspace_root) == "/opt/flomation/runner/workspace"
    assert config.executor_command == ["/opt/flomation/executor/executor"]


def test_every_key_can_come_from_the_environment_and_wins_over_the_file(tmp_path):
    path = write(tmp_path, {"runner": {"url": "https://file.example.com", "name": "from-file"}})
    environ = {
        "FLOMATION_API": "https://env.example.com/",
        "FLOMATION_REGISTRATION_CODE": "env-code",
        "FLOMATION_RUNNER_NAME": "from-env",
        "FLOMATION_RUNNER_CHECKIN_TIMEOUT": "2.5",
        "FLOMATION_RUNNER_CERTIFICATE_PATH": "/keys/runner.pem",
        "FLOMATION_RUNNER_MAX_EXECUTORS": "3",
        "FLOMATION_RUNNER_EXECUTION_DIRECTORY": "/work/space",
        "FLOMATION_RUNNER_EXECUTABLE_NAME": "python -m flomation.executor",
        "FLOMATION_RUNNER_STATE_DIRECTORY": "/state",
    }
    config = load_config(path, environ=environ)
    assert (config.api_url, config.registration_code, config.name) == (
        "https://env.example.com",
        "env-code",
        "from-env",
    )
    assert (config.checkin_timeout, config.max_concurrent_executors) == (2.5, 3)
    assert (str(config.key_path), str(config.workspace_root)) == ("/keys/runner.pem", "/work/space")
    assert config.executor_command == ["python", "-m", "flomation.executor"]
    assert str(config.state_path) == "/state/flomation-runner-state.json"


def test_claim_ahead_is_at_most_sixteen_per_slot_unless_prefetch_says_otherwise(tmp_path):
    path = write(tmp_path, {"runner": {"url": "http://a"}, "execution": {"max_concurrent_executors": 3}})
    assert load_config(path, environ={}).claim_ahead == 48
    assert load_config(path, environ={"FLOMATION_RUNNER_PREFETCH": "0"}).claim_ahead == 0
    path = write(tmp_path, {"runner": {"url": "http://a"}, "execution": {"prefetch": 8}})
    assert load_config(path, environ={}).claim_ahead == 8
    with pytest.raises(ConfigError, match="FLOMATION_RUNNER_PREFETCH must be at least 0"):
        load_config(path, environ={"FLOMATION_RUNNER_PREFETCH": "-1"})


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        ({}, "no API URL: set runner.url in config.json or FLOMATION_API"),
        ({"FLOMATION_API": "api.example.com"}, "FLOMATION_API must be an http:// or https:// URL"),
        ({"FLOMATION_API": "http://a", "FLOMATION_RUNNER_MAX_EXECUTORS": "many"}, "FLOMATION_RUNNER_MAX_EXECUTORS must be a number"),
        ({"FLOMATION_API": "http://a", "FLOMATION_RUNNER_MAX_EXECUTORS": "0"}, "must be at least 1"),
    ],
)  # fmt: skip
def test_a_bad_configuration_names_what_is_wrong(tmp_path, environ, complaint):
    with pytest.raises(ConfigError, match=complaint):
        load_config(None, environ={**environ, "FLOMATION_RUNNER_CONFIG": str(tmp_path / "none.json")})


def test_the_runner_and_executor_import_no_django_and_no_database_driver():
    probe = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('django', 'psycopg', 'rest_framework'):\n"
        "            raise ImportError('refused: ' + name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "import flomation.runner.cli, flomation.runner.agent, flomation.runner.warm, flomation.runner.isolated\n"
        "from flomation.executor import run_flow, manifest\n"
        "manifest()\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_dedicated_runners_egress_policy_comes_from_its_configuration(tmp_path):
    path = write(
        tmp_path,
        {
            "runner": {"url": "https://api.example.com:8443"},
            "egress": {"allow": ["10.20.0.0/16"], "allow_local": True},
        },
    )
    policy = load_config(path, environ={}).egress_policy
    assert [str(network) for network in policy.allow] == ["10.20.0.0/16"]
    assert policy.allow_local is True and policy.allow_platform is False
    assert [(e.host, e.port) for e in policy.platform] == [("api.example.com", 8443)]
    from_env = load_config(
        path, environ={"FLOMATION_RUNNER_EGRESS_ALLOW": "192.168.0.0/16, fd00::/8"}
    ).egress_policy
    assert [str(network) for network in from_env.allow] == ["192.168.0.0/16", "fd00::/8"]


def test_without_an_egress_section_a_dedicated_runner_is_strict(tmp_path):
    policy = load_config(write(tmp_path, {"runner": {"url": "http://a"}}), environ={}).egress_policy
    assert policy.allow == () and policy.allow_local is False


def test_a_malformed_egress_range_names_where_it_came_from(tmp_path):
    path = write(tmp_path, {"runner": {"url": "http://a"}, "egress": {"allow": ["10.0.0.0/33"]}})
    with pytest.raises(
        ConfigError, match=r"egress\.allow in .*config\.json: '10\.0\.0\.0/33' is not an address range"
    ):
        load_config(path, environ={})
    with pytest.raises(ConfigError, match="FLOMATION_RUNNER_EGRESS_ALLOW_LOCAL must be true or false"):
        load_config(
            path,
            environ={
                "FLOMATION_RUNNER_EGRESS_ALLOW": "10.0.0.0/8",
                "FLOMATION_RUNNER_EGRESS_ALLOW_LOCAL": "maybe",
            },
        )
