"""The runner role beside the api role (one box): it enrols into the shared queue with no set-up."""

from __future__ import annotations

import threading

import pytest

from flomation.core.services.queues import queue_registration_code, queue_shared
from flomation.runner.role import runner_config

pytestmark = pytest.mark.django_db


def test_one_box_runner_enrols_into_the_shared_queue_and_talks_to_the_local_api(
    settings, monkeypatch, tmp_path
):
    for name in ("FLOMATION_API", "FLOMATION_REGISTRATION_CODE", "FLOMATION_RUNNER_STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    settings.RUNNER_CONFIG, settings.RUNNER_API_URL, settings.RUNNER_REGISTRATION_CODE = "", "", ""
    settings.API_URL, settings.VAR_DIR = "http://127.0.0.1:8080", tmp_path
    config = runner_config(threading.Event())
    assert config is not None
    assert config.registration_code == queue_registration_code(queue=queue_shared())
    assert config.api_url == "http://127.0.0.1:8080"
    assert config.state_dir == tmp_path / "runner"
    assert config.workspace_root == tmp_path / "runner" / "workspace"


def test_an_explicit_api_and_code_win_over_the_shared_queue(settings, monkeypatch):
    monkeypatch.setenv("FLOMATION_API", "https://api.example.com")
    settings.RUNNER_CONFIG, settings.RUNNER_API_URL = "", "https://api.example.com"
    settings.RUNNER_REGISTRATION_CODE = "frq_dedicated"
    config = runner_config(threading.Event())
    assert config is not None
    assert (config.api_url, config.registration_code) == ("https://api.example.com", "frq_dedicated")


def test_a_runner_on_its_own_box_keeps_its_key_and_state_under_the_var_directory(
    settings, monkeypatch, tmp_path
):
    """The shipped unit lets the runner write only under /var/lib/flomation (FLOMATION_VAR_DIR), not in its
    working directory."""
    for name in ("FLOMATION_RUNNER_STATE_DIRECTORY", "FLOMATION_RUNNER_EXECUTION_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLOMATION_API", "https://api.example.com")
    settings.RUNNER_CONFIG, settings.RUNNER_API_URL = "", "https://api.example.com"
    settings.RUNNER_REGISTRATION_CODE, settings.VAR_DIR = "frq_dedicated", tmp_path
    config = runner_config(threading.Event())
    assert config is not None
    assert config.key_path == tmp_path / "runner" / "flomation-runner.pem"
    assert config.workspace_root == tmp_path / "runner" / "workspace"
    monkeypatch.setenv("FLOMATION_RUNNER_STATE_DIRECTORY", str(tmp_path / "elsewhere"))
    assert runner_config(threading.Event()).state_dir == tmp_path / "elsewhere"
