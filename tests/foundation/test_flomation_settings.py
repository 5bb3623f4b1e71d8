"""A Flomation install's environment names and config.json keys (its installation guide, seed 000) are read
as ours, ours winning with a warning when both are set."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from flomation.lib.flomation_settings import FLOMATION_NAMES, fernet_key, flomation_settings
from tests.support.servers import ROOT, manage

SENTINEL_CONFIG = {
    "listener": {"address": "0.0.0.0", "port": 8999, "url": "https://sentinel.example.com"},
    "database": {
        "hostname": "db.example.com", "port": 5432, "username": "flomation", "password": "p@ss/word",
        "database": "flomation_sentinel", "encryption_key": "PLACEHOLDER-GENERATE-A-SECURE-KEY",
        "ssl_mode": "require",
    },
    "security": {
        "cookie": {"domain": "example.com", "secure": True, "http_only": False, "expiration": 86400},
        "realm": "example.com", "secret": "s" * 40,
        "login_redirect": "https://editor.example.com/", "logout_redirect": "https://editor.example.com/logout",
    },
    "notification": {
        "enabled": True, "send_from": "noreply@example.com",
        "smtp": {"host": "smtp.example.com", "port": 587, "username": "smtp-user", "password": "smtp-password"},
    },
}  # fmt: skip
API_CONFIG = {
    "http": {"address": "0.0.0.0", "port": 8888},
    "database": {"hostname": "db.example.com", "port": 5432, "username": "flomation", "password": "pw",
                 "database": "flomation_api", "encryption_key": "k", "ssl_mode": "require"},
    "security": {"identity_service": "https://sentinel.example.com", "allowed_origins": "https://editor.example.com"},
    "launch": {"url": "https://launch.example.com"},
}  # fmt: skip
LAUNCH_CONFIG = {
    "http": {"address": "0.0.0.0", "port": 8081},
    "automate": {"url": "https://api.example.com", "key": "flo_launch"},
    "security": {"identity_service": "https://sentinel.example.com", "editor_url": "https://editor.example.com"},
    "public_url": "https://launch.example.com",
}  # fmt: skip


def test_sentinels_database_names_become_one_database_url_with_its_ssl_mode():
    environ = {"DB_HOSTNAME": "db.example.com", "DB_PORT": "6432", "DB_USERNAME": "flo", "DB_PASSWORD": "a:b@c",
               "DB_NAME": "flomation_sentinel", "DB_SSL_MODE": "verify-full"}  # fmt: skip
    mapped = flomation_settings(environ=environ)
    assert mapped.values["DATABASE_URL"] == (
        "postgres://flo:a%3Ab%40c@db.example.com:6432/flomation_sentinel?sslmode=verify-full"
    )
    assert mapped.warnings == []


def test_the_apis_database_spellings_are_read_as_well():
    environ = {"DATABASE_HOSTNAME": "db", "DATABASE_USER": "api", "DATABASE_PASSWORD": "pw", "DATABASE_NAME": "flomation_api",
               "DATABASE_SSL_MODE": "require", "DATABASE_ENCRYPTION_KEY": "free text key"}  # fmt: skip
    mapped = flomation_settings(environ=environ)
    assert mapped.values["DATABASE_URL"] == "postgres://api:pw@db:5432/flomation_api?sslmode=require"
    Fernet(mapped.values["FLOMATION_ENCRYPTION_KEY"].encode())  # a usable key, derived from the text
    assert mapped.values["FLOMATION_ENCRYPTION_KEY"] == fernet_key("free text key")


def test_a_database_host_without_a_name_is_not_mapped_and_says_so():
    mapped = flomation_settings(environ={"DB_HOSTNAME": "db.example.com"})
    assert "DATABASE_URL" not in mapped.values
    assert mapped.warnings == ["DB_HOSTNAME (or DATABASE_HOSTNAME) is set without DB_NAME; set the name too."]


def test_a_fernet_key_given_as_the_database_encryption_key_is_used_as_it_is():
    key = Fernet.generate_key().decode()
    assert flomation_settings(environ={"DB_ENCRYPTION_KEY": key}).values["FLOMATION_ENCRYPTION_KEY"] == key


def test_listen_address_and_port_become_the_bind_address_loopback_by_default():
    assert flomation_settings(environ={"LISTEN_ADDRESS": "0.0.0.0", "LISTEN_PORT": "8888"}).values == {
        "FLOMATION_BIND": "0.0.0.0:8888"
    }
    assert flomation_settings(environ={"LISTEN_PORT": "8999"}).values["FLOMATION_BIND"] == "127.0.0.1:8999"
    assert "FLOMATION_BIND" not in flomation_settings(environ={"LISTEN_ADDRESS": "0.0.0.0"}).values


def test_the_editors_environment_file_and_the_apis_names_map_to_our_urls():
    environ = {"AUTOMATE_API_URL": "https://api.example.com", "TRIGGER_URL": "https://launch.example.com",
               "LOGIN_URL": "https://sentinel.example.com", "ALLOWED_ORIGINS": "https://editor.example.com",
               "LAUNCH_SERVICE_URL": "https://launch2.example.com"}  # fmt: skip
    assert flomation_settings(environ=environ).values == {
        "API_URL": "https://api.example.com",
        "LAUNCH_URL": "https://launch2.example.com",
        "IDENTITY_URL": "https://sentinel.example.com",
        "IDENTITY_LOGIN_URL": "https://sentinel.example.com/authenticate",
        "CSRF_TRUSTED_ORIGINS": "https://editor.example.com",
    }


@pytest.mark.parametrize(
    "config, expected",
    [
        (
            SENTINEL_CONFIG,
            {
                "FLOMATION_BIND": "0.0.0.0:8999", "IDENTITY_URL": "https://sentinel.example.com",
                "DATABASE_URL": "postgres://flomation:p%40ss%2Fword@db.example.com:5432/flomation_sentinel?sslmode=require",
                "FLOMATION_ENCRYPTION_KEY": fernet_key("PLACEHOLDER-GENERATE-A-SECURE-KEY"),
                "AUTH_SECRET": "s" * 40, "AUTH_REALM": "example.com", "AUTH_COOKIE_DOMAIN": "example.com",
                "AUTH_COOKIE_SECURE": "true", "AUTH_TOKEN_LIFETIME": "86400",
                "AUTH_LOGIN_REDIRECT": "https://editor.example.com/",
                "AUTH_LOGOUT_REDIRECT": "https://editor.example.com/logout",
                "NOTIFICATIONS_ENABLED": "true", "NOTIFICATIONS_SEND_FROM": "noreply@example.com",
                "SMTP_HOST": "smtp.example.com", "SMTP_PORT": "587", "SMTP_USERNAME": "smtp-user",
                "SMTP_PASSWORD": "smtp-password",
            },
        ),
        (
            API_CONFIG,
            {
                "FLOMATION_BIND": "0.0.0.0:8888", "DATABASE_URL": "postgres://flomation:pw@db.example.com:5432/flomation_api?sslmode=require",
                "FLOMATION_ENCRYPTION_KEY": fernet_key("k"), "IDENTITY_SERVICE": "https://sentinel.example.com",
                "TOKEN_VERIFICATION": "introspect",
                "CSRF_TRUSTED_ORIGINS": "https://editor.example.com", "LAUNCH_URL": "https://launch.example.com",
            },
        ),
        (
            LAUNCH_CONFIG,
            {
                "FLOMATION_BIND": "0.0.0.0:8081", "LAUNCH_API_URL": "https://api.example.com",
                "LAUNCH_API_KEY": "flo_launch", "IDENTITY_SERVICE": "https://sentinel.example.com",
                "TOKEN_VERIFICATION": "introspect",
                "EDITOR_URL": "https://editor.example.com", "LAUNCH_URL": "https://launch.example.com",
            },
        ),
    ],
    ids=["sentinel", "api", "launch"],
)  # fmt: skip
def test_each_services_config_json_from_the_guide_maps_every_key_we_have(config, expected):
    assert flomation_settings(environ={}, config=config).values == expected


def test_the_session_cookie_stays_http_only_whatever_sentinels_config_says():
    assert "AUTH_COOKIE_HTTP_ONLY" not in flomation_settings(environ={}, config=SENTINEL_CONFIG).values


def test_ours_win_over_flomations_with_a_warning_naming_both_and_no_value():
    environ = {"LAUNCH_URL": "https://ours.example.com", "LAUNCH_SERVICE_URL": "https://theirs.example.com",
               "DATABASE_URL": "postgres://x@y/z", "DB_HOSTNAME": "db", "DB_NAME": "n", "DB_PASSWORD": "hunter2"}  # fmt: skip
    mapped = flomation_settings(environ=environ)
    assert mapped.values == {}
    assert mapped.warnings == [
        "LAUNCH_URL is set, so LAUNCH_SERVICE_URL is ignored; remove one of them.",
        "DATABASE_URL is set, so DB_*/DATABASE_* (or database in config.json) is ignored; remove one of them.",
    ]
    assert not any("hunter2" in warning for warning in mapped.warnings)


def test_flomations_environment_wins_over_its_config_json():
    mapped = flomation_settings(environ={"LISTEN_PORT": "9000"}, config=API_CONFIG)
    assert mapped.values["FLOMATION_BIND"] == "0.0.0.0:9000"


def test_a_role_started_with_only_a_flomation_config_json_uses_it(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(API_CONFIG))
    shown = (
        "print(settings.LAUNCH_URL, settings.IDENTITY_SERVICE, settings.WEB_BIND, "
        "settings.DATABASES['default']['NAME'], repr(settings.AUTH_SECRET))"
    )
    result = manage(
        "shell", "-c", "from django.conf import settings; " + shown,
        env={"FLOMATION_CONFIG": str(config), "DATABASE_URL": "", "LAUNCH_URL": "", "IDENTITY_SERVICE": "",
             "FLOMATION_BIND": "", "FLOMATION_IGNORE_DOTENV": "1", "FLOMATION_ROLES": "api,editor,launch",
             "AUTH_SECRET": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "https://launch.example.com",
        "https://sentinel.example.com",
        "0.0.0.0:8888",
        "flomation_api",
        "''",  # no AUTH_SECRET: tokens are checked at Sentinel, not with a secret of this process
    ]


def test_a_clash_is_a_system_check_warning_and_an_unreadable_config_stops_start_up(tmp_path):
    clash = manage(
        "check", env={"LAUNCH_URL": "https://ours.example.com", "TRIGGER_URL": "https://t.example.com"}
    )
    assert "flomation.W002" in clash.stderr + clash.stdout
    assert "LAUNCH_URL is set, so TRIGGER_URL is ignored" in clash.stderr + clash.stdout
    broken = tmp_path / "config.json"
    broken.write_text("{not json")
    result = manage("check", env={"FLOMATION_CONFIG": str(broken)})
    assert result.returncode != 0 and f"FLOMATION_CONFIG={str(broken)!r} is not valid JSON" in result.stderr


def test_every_flomation_name_read_is_documented_in_the_example_environment():
    documented = (ROOT / ".env.example").read_text()
    assert [name for name in FLOMATION_NAMES if f"\n{name}=" not in documented] == []


def test_the_migration_guides_worked_example_gives_the_settings_it_shows():
    guide = (ROOT / "docs" / "migrating-from-flomation.md").read_text()
    mapped = flomation_settings(environ={"DB_NAME": "flomation_platform"}, config=API_CONFIG).values
    assert (
        mapped["DATABASE_URL"]
        == "postgres://flomation:pw@db.example.com:5432/flomation_platform?sslmode=require"
    )
    assert "@db.example.com:5432/flomation_platform?sslmode=require" in guide
    for name in ("FLOMATION_BIND", "IDENTITY_SERVICE", "CSRF_TRUSTED_ORIGINS", "LAUNCH_URL"):
        assert f"{name}={mapped[name]}" in guide
