"""The launch role's system checks."""

from __future__ import annotations

from flomation.launch.checks import check_launch_settings


def test_a_separate_launch_without_an_api_key_is_warned_about(settings):
    settings.LAUNCH_API_URL, settings.LAUNCH_API_KEY = "https://api.example.com", ""
    assert [problem.id for problem in check_launch_settings()] == ["launch.W001"]


def test_launch_without_an_encryption_key_is_an_error(settings):
    settings.FLOMATION_ENCRYPTION_KEYS = []
    assert "launch.E001" in [problem.id for problem in check_launch_settings()]


def test_a_launch_sharing_the_database_needs_nothing_more(settings):
    settings.LAUNCH_API_URL = ""
    assert check_launch_settings() == []
