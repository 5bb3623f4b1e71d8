"""Identity on its own database (a plain PostgreSQL without pgvector), with the other roles verifying
tokens and revocations through identity's service: real processes over real HTTP.

Uses the machine's PostgreSQL on 127.0.0.1:5432 (no pgvector there); each test creates a fresh database
and drops it. Skipped where that server is not running.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from flomation.identity.models import Session
from tests.support.servers import manage, serve

PLAIN_SERVER = "postgresql://postgres@127.0.0.1:5432"
PASSWORD = "a-long-enough-password-for-tests"
CACHE_SECONDS = 2


@pytest.fixture
def plain_database() -> Iterator[str]:
    """A fresh database on the plain PostgreSQL; its URL. Dropped afterwards."""
    try:
        admin = psycopg.connect(f"{PLAIN_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = "identity_" + uuid.uuid4().hex[:10]
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield f"{PLAIN_SERVER}/{name}"
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def _has_pgvector(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone())


def _identity_only(url: str) -> dict[str, str]:
    return {"FLOMATION_ROLES": "identity", "IDENTITY_DATABASE_URL": url, "DATABASE_URL": ""}


@pytest.mark.slow
def test_migrate_puts_identity_on_a_plain_postgresql_without_pgvector_and_no_core_table_there(plain_database):
    if _has_pgvector(plain_database):
        pytest.skip("this server has pgvector: the proof needs one without")
    result = manage("migrate", env=_identity_only(plain_database))
    assert result.returncode == 0, result.stderr
    tables = _tables(plain_database)
    assert {"identity_user", "identity_session", "auth_permission", "django_admin_log"} <= tables
    assert not {table for table in tables if table.startswith(("core_", "launch_", "editor_", "runner_"))}
    with psycopg.connect(plain_database) as conn:
        assert not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()


@pytest.mark.slow
def test_migrate_of_the_identity_alias_beside_core_migrates_identity_only(plain_database):
    # A process with both databases (core's default, identity's own) migrates identity's with --database.
    result = manage(
        "migrate",
        "--database",
        "identity",
        env={"FLOMATION_ROLES": "all", "IDENTITY_DATABASE_URL": plain_database},
    )
    assert result.returncode == 0, result.stderr
    tables = _tables(plain_database)
    assert "identity_user" in tables
    assert not {table for table in tables if table.startswith(("core_", "launch_", "editor_", "runner_"))}


def _token(identity_url: str, email: str) -> tuple[str, str]:
    answer = requests.post(
        identity_url + "/identity/api/token", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["token"], body["session_id"]


def _me(api_url: str, token: str) -> int:
    return requests.get(
        api_url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).status_code


def _identity_with_admin(url: str, tmp_path: Path) -> str:
    """Migrates identity's database and creates an account there (through identity's own commands)."""
    assert manage("migrate", env=_identity_only(url)).returncode == 0
    email = f"split-{uuid.uuid4().hex[:6]}@example.test"
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    created = manage(
        "create_admin", "--email", email, "--password-file", str(password_file), env=_identity_only(url)
    )
    assert created.returncode == 0, created.stderr
    return email


def _end_session(identity_url: str, session_id: str, *, with_token: str) -> None:
    ended = requests.delete(
        f"{identity_url}/identity/api/sessions/{session_id}",
        headers={"Authorization": f"Bearer {with_token}"},
        timeout=10,
    )
    assert ended.status_code == 204, ended.text


def _session_revoked_at(url: str, session_id: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT revoked_at FROM identity_session WHERE id = %s", [session_id]).fetchone()
    return row[0] if row else "absent"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_api_on_its_own_database_honours_identity_tokens_and_their_revocation_by_introspection(
    plain_database, tmp_path
):
    email = _identity_with_admin(plain_database, tmp_path)
    # A core migration not recorded on identity's database (one added after its last migrate) changes
    # nothing there, so identity stays ready.
    with psycopg.connect(plain_database) as conn:
        assert conn.execute("DELETE FROM django_migrations WHERE app = 'core'").rowcount > 0
    introspecting = {
        "TOKEN_VERIFICATION": "introspect",
        "AUTH_SECRET": "",  # this api could not verify a token itself even if it tried
        "IDENTITY_INTROSPECTION_CACHE_SECONDS": str(CACHE_SECONDS),
    }
    with (
        serve(
            "identity", tmp_path=tmp_path, env={**_identity_only(plain_database), "METRICS_TOKEN": "m-token"}
        ) as identity,
        serve("api", tmp_path=tmp_path, env={**introspecting, "IDENTITY_SERVICE": identity.url}) as api,
    ):
        token, session_id = _token(identity.url, email)
        assert _me(api.url, token) == 200
        other_token, _ = _token(identity.url, email)
        assert _me(api.url, "not-a-token") == 401
        # Identity's process, whose one database holds no core table, is ready and reports its metrics.
        assert requests.get(identity.url + "/readyz", timeout=10).json() == {"status": "ok", "database": "ok"}
        scrape = requests.get(
            identity.url + "/metrics", headers={"Authorization": "Bearer m-token"}, timeout=10
        )
        assert scrape.status_code == 200 and "flomation_queue_depth" not in scrape.text

        _end_session(identity.url, session_id, with_token=other_token)
        revoked_at = time.monotonic()
        # Identity's introspection endpoint refuses the revoked token at once.
        refused = requests.get(
            identity.url + "/identity/api/user", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert refused.status_code == 401
        # The api may still honour it from its cache, but no longer than the cache lasts.
        while _me(api.url, token) == 200:
            assert time.monotonic() - revoked_at < CACHE_SECONDS + 1, "the revoked token outlived the cache"
            time.sleep(0.2)
        assert _me(api.url, token) == 401
        assert _me(api.url, other_token) == 200
    assert _session_revoked_at(plain_database, session_id) not in (None, "absent")
    # The api's own database never held the session: the answer came from identity.
    assert not Session.objects.using("default").filter(id=session_id).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_api_verifying_locally_reads_sessions_from_identitys_own_database(plain_database, tmp_path):
    email = _identity_with_admin(plain_database, tmp_path)
    with (
        serve("identity", tmp_path=tmp_path, env=_identity_only(plain_database)) as identity,
        serve("api", tmp_path=tmp_path, env={"IDENTITY_DATABASE_URL": plain_database}) as api,
    ):
        token, session_id = _token(identity.url, email)
        other_token, _ = _token(identity.url, email)
        assert _me(api.url, token) == 200
        # Both of the api's databases (core's, identity's) are reachable and migrated.
        assert requests.get(api.url + "/readyz", timeout=10).json() == {"status": "ok", "database": "ok"}
        # The operators' admin finds its users, permissions and log on identity's database.
        pages = {
            path: requests.get(api.url + path, cookies={"flomation-token": token}, allow_redirects=False)
            for path in ("/admin/", "/admin/identity/user/", "/admin/core/organisation/")
        }
        assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(pages, 200)
        assert email in pages["/admin/identity/user/"].text
        _end_session(identity.url, session_id, with_token=other_token)
        # Checked against identity's session table on every request: refused at once.
        assert _me(api.url, token) == 401
        assert _me(api.url, other_token) == 200
    assert not Session.objects.using("default").filter(id=session_id).exists()
