"""Settings come from the environment; bad values and bad combinations stop start-up with clear messages."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.support.servers import ROOT, manage

PRODUCTION = {"DEBUG": "false", "FLOMATION_ROLES": "api", "SECRET_KEY": "x" * 60}


def test_a_malformed_value_stops_start_up_naming_the_variable():
    result = manage("check", env={"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not valid: expected true or false" in result.stderr


def test_a_malformed_egress_range_stops_start_up_naming_the_variable():
    result = manage("check", env={"FLOMATION_EGRESS_ALLOW": "10.0.0.0/8,internal-net"})
    assert result.returncode != 0
    assert "FLOMATION_EGRESS_ALLOW: 'internal-net' is not an address range" in result.stderr


def test_an_unknown_role_is_refused_with_the_valid_choices():
    result = manage("check", env={"FLOMATION_ROLES": "api,bogus"})
    assert result.returncode != 0
    assert (
        "unknown role bogus; choose from identity, api, launch, editor, runner, worker, all" in result.stderr
    )


def test_a_missing_secret_key_names_the_variable_and_its_file_variant():
    result = manage("check", env={"DEBUG": "false", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE" in result.stderr


def test_secrets_are_read_from_files(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" * 60 + "\n")
    result = manage(
        "shell", "-c", "from django.conf import settings; print(len(settings.SECRET_KEY))",
        env={"SECRET_KEY": "", "SECRET_KEY_FILE": str(key_file)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "60"


def test_a_runner_alone_without_an_api_is_caught_by_a_system_check():
    result = manage(
        "check", env={"FLOMATION_ROLES": "runner", "FLOMATION_API": "", "FLOMATION_REGISTRATION_CODE": ""}
    )
    assert result.returncode != 0
    assert "flomation.E005" in result.stderr


def test_an_api_without_an_encryption_key_is_caught_by_a_system_check():
    result = manage("check", env={**PRODUCTION, "FLOMATION_ENCRYPTION_KEY": ""})
    assert result.returncode != 0
    assert "flomation.E001" in result.stderr


def _sample_environment(path: Path, tmp_path: Path) -> dict[str, str]:
    """A deploy/env sample as systemd would load it, with its secret files made real under tmp_path."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        if name.endswith("_FILE"):
            secret = tmp_path / Path(value).name
            if name == "DATABASE_URL_FILE":
                secret.write_text("postgres://flomation:pw@db.example.com:5432/flomation")
            elif name == "FLOMATION_REGISTRATION_CODE_FILE":
                secret.write_text("frq_sample")
            elif name == "FLOMATION_ENCRYPTION_KEY_FILE":
                secret.write_text(Fernet.generate_key().decode())
            else:
                secret.write_text(secrets.token_urlsafe(48))
            value = str(secret)
        env[name] = value
    return env


@pytest.mark.parametrize("role", ["identity", "api", "launch", "editor", "runner", "worker"])
def test_the_production_sample_environment_passes_the_deployment_checks(role, tmp_path):
    clean = {name: "" for name in ("SECRET_KEY", "AUTH_SECRET", "FLOMATION_ENCRYPTION_KEY", "DATABASE_URL",
                                   "AUTH_COOKIE_SECURE", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")}  # fmt: skip
    env = {**clean, **_sample_environment(ROOT / "deploy" / "env" / f"{role}.env", tmp_path)}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_every_setting_is_documented_in_the_example_environment():
    source = (ROOT / "flomation" / "settings.py").read_text() + (ROOT / "flomation" / "config.py").read_text()
    names = set(
        re.findall(
            r'(?:env|self)\.(?:str|bool|int|choice|list|path|url|roles|secret|secret_list)\(\s*"([A-Z0-9_]+)"',
            source,
        )
    )
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert names, "no settings found: the pattern no longer matches settings.py"
    assert names - documented == set()
