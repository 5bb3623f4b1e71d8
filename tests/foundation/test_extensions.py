"""Migration creates pgvector (and pgcrypto, uuid-ossp where the server has them) or stops before
changing anything, saying exactly what a superuser must run."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.db import connection

from tests.support.servers import manage

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_migrated_database_has_the_vector_extension():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        assert "vector" in {row[0] for row in cursor.fetchall()}


def test_a_user_who_may_not_create_extensions_gets_the_superuser_command_and_nothing_is_written():
    if connection.settings_dict["ENGINE"] != "flomation.db":
        pytest.skip("creates a role on the embedded server")
    name = "limited_" + uuid.uuid4().hex[:8]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} LOGIN")
        cursor.execute(f"CREATE DATABASE {name} OWNER {name}")
    try:
        socket_dir = connection.settings_dict["HOST"]
        result = manage("migrate", env={"DATABASE_URL": f"postgresql://{name}@/{name}?host={socket_dir}"})
        assert result.returncode != 0
        assert f"The database user '{name}' may not create the extension(s) vector" in result.stderr
        assert f"""psql -d {name} -c 'CREATE EXTENSION IF NOT EXISTS "vector";'""" in result.stderr
        with psycopg.connect(host=socket_dir, user="postgres", dbname=name) as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
        assert tables == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"DROP ROLE IF EXISTS {name}")


def test_a_server_without_pgvector_is_refused_with_install_instructions():
    try:
        admin = psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    with admin:
        if admin.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone():
            pytest.skip("this server has pgvector")
        name = "novector_" + uuid.uuid4().hex[:8]
        admin.execute(f"CREATE DATABASE {name}")
        try:
            result = manage("migrate", env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}"})
            assert result.returncode != 0
            assert "The PostgreSQL server has no pgvector extension" in result.stderr
            assert "Nothing was changed." in result.stderr
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
                assert (
                    conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname='public'").fetchone()[0]
                    == 0
                )
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
