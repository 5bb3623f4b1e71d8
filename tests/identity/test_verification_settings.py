"""How tokens are verified is chosen explicitly (TOKEN_VERIFICATION), and a combination that cannot work is
refused by a system check with a stable id; identity's tables go to their own database when it is set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flomation.checks import check_settings
from flomation.core.models import ApiToken
from flomation.db.routers import ComponentRouter, alias_holds_app, aliases_in_use
from flomation.identity.authentication import verify_token
from flomation.identity.models import Session, User
from flomation.identity.tokens import TokenError
from tests.support.servers import manage


def _ids(settings, roles: set[str]) -> set[str]:
    settings.FLOMATION_ROLES = frozenset(roles)
    return {problem.id for problem in check_settings()}


def test_introspection_without_an_identity_service_is_refused(settings):
    settings.TOKEN_VERIFICATION = "introspect"
    settings.IDENTITY_SERVICE = ""
    assert "flomation.E007" in _ids(settings, {"api"})
    settings.IDENTITY_SERVICE = "http://127.0.0.1:8999"
    assert not {"flomation.E007", "flomation.E002"} & _ids(settings, {"api"})


def test_introspection_needs_no_auth_secret(settings):
    settings.TOKEN_VERIFICATION = "introspect"
    settings.IDENTITY_SERVICE = "http://127.0.0.1:8999"
    settings.AUTH_SECRET = ""
    assert _ids(settings, {"api", "launch", "editor"}) & {"flomation.E002", "flomation.E007"} == set()


def test_a_process_running_identity_cannot_introspect(settings):
    settings.TOKEN_VERIFICATION = "introspect"
    settings.IDENTITY_SERVICE = "http://127.0.0.1:8999"
    assert "flomation.E008" in _ids(settings, {"identity"})
    assert "flomation.E008" in _ids(settings, {"identity", "api"})


def test_local_verification_without_a_secret_is_refused(settings):
    settings.TOKEN_VERIFICATION = "local"
    settings.AUTH_SECRET = ""
    assert "flomation.E002" in _ids(settings, {"editor"})


def test_an_identity_service_that_local_verification_ignores_is_pointed_out(settings):
    settings.TOKEN_VERIFICATION = "local"
    settings.IDENTITY_SERVICE = "http://127.0.0.1:8999"
    assert "flomation.W004" in _ids(settings, {"api"})
    settings.IDENTITY_SERVICE = ""
    assert "flomation.W004" not in _ids(settings, {"api"})


def test_local_verification_never_asks_the_identity_service(settings):
    # A token that only introspection could accept is refused locally: the setting alone decides.
    settings.TOKEN_VERIFICATION = "local"
    settings.IDENTITY_SERVICE = "http://127.0.0.1:1"
    with pytest.raises(TokenError) as refused:
        verify_token("not-a-jwt")
    assert "cannot be reached" not in str(refused.value)


def test_an_unknown_verification_is_refused_at_start_up():
    result = manage("check", env={"TOKEN_VERIFICATION": "maybe"})
    assert result.returncode != 0
    assert "TOKEN_VERIFICATION" in result.stderr and "local, introspect" in result.stderr


def test_without_an_identity_database_every_table_stays_on_the_default_one(settings):
    settings.IDENTITY_DATABASE_ALIAS = "default"
    router = ComponentRouter()
    assert router.db_for_read(Session) == router.db_for_write(ApiToken) == "default"
    assert aliases_in_use() == ["default"]


def test_with_an_identity_database_identitys_apps_are_migrated_there_and_nowhere_else(settings):
    settings.IDENTITY_DATABASE_ALIAS = "identity"
    router = ComponentRouter()
    assert router.db_for_write(User) == router.db_for_read(Session) == "identity"
    assert router.db_for_read(ApiToken) == "default"
    for app in ("identity", "auth", "admin", "contenttypes", "sessions"):
        assert router.allow_migrate("identity", app) and not router.allow_migrate("default", app)
    for app in ("flomation", "core", "launch", "editor", "runner"):
        assert router.allow_migrate("default", app) and not router.allow_migrate("identity", app)
    assert aliases_in_use() == ["default", "identity"]


def test_an_identity_only_database_never_takes_core_migrations(settings):
    settings.IDENTITY_DATABASE_ALIAS = "default"
    settings.CORE_DATABASE = False
    assert alias_holds_app("default", "identity")
    assert not alias_holds_app("default", "flomation") and not alias_holds_app("default", "core")
    assert aliases_in_use() == ["default"]


def test_an_introspecting_api_without_identitys_database_is_told_what_it_cannot_check(settings):
    settings.TOKEN_VERIFICATION = "introspect"
    settings.IDENTITY_SERVICE = "http://127.0.0.1:8999"
    settings.IDENTITY_DATABASE_ALIAS = "default"
    assert "flomation.W005" in _ids(settings, {"api"})
    assert "flomation.W005" not in _ids(settings, {"launch"})
    settings.IDENTITY_DATABASE_ALIAS = "identity"
    assert "flomation.W005" not in _ids(settings, {"api"})


def test_no_other_component_reads_identitys_tables_except_through_its_services():
    # Identity may live on another database: a join, a foreign key or a model import would break there.
    root = Path(__file__).resolve().parents[2] / "flomation"
    offenders = []
    for path in root.rglob("*.py"):
        if path.is_relative_to(root / "identity") or "migrations" in path.parts:
            continue
        text = path.read_text()
        if re.search(
            r"flomation\.identity\.models|flomation\.identity import models|\bidentity_(user|session)", text
        ):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
