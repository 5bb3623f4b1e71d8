"""sql/postgresql and sql/mysql against the real servers on this machine (PostgreSQL 127.0.0.1:5432 with
trust authentication, MariaDB 127.0.0.1:3306)."""

from __future__ import annotations

import json
import socket
import uuid

import psycopg
import pymysql
import pytest
from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.executor.providers import StaticSecrets

PG = {"host": "127.0.0.1", "port": 5432, "username": "postgres", "database": "postgres"}
MY = {"host": "127.0.0.1", "port": 3306, "username": "root", "database": "test"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def pg_table():
    name = f"flo_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {name} (id serial PRIMARY KEY, name text UNIQUE, price numeric, meta jsonb)"
        )
        conn.execute(f"INSERT INTO {name} (name, price) VALUES ('apple', 1.50), ('pear', 2)")
        yield name
        conn.execute(f"DROP TABLE {name}")


@pytest.fixture
def my_table():
    name = f"flo_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host="127.0.0.1", user="root", database="test", autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {name} (id int AUTO_INCREMENT PRIMARY KEY, name varchar(40) UNIQUE, price decimal(6,2))"
        )
        cursor.execute(f"INSERT INTO {name} (name, price) VALUES ('apple', 1.50), ('pear', 2)")
    yield name
    with conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE {name}")
    conn.close()


def sql(action: str, base: dict, **inputs):
    return node("q", action, {**base, **inputs})


# --- PostgreSQL ---------------------------------------------------------------------------------------


def test_postgres_named_parameters_return_rows_a_later_node_reads_through_a_template(pg_table):
    f = chain(
        sql(
            "sql/postgresql",
            PG,
            query=f"SELECT name, price FROM {pg_table} WHERE price > %(min)s ORDER BY name",
            parameters={"min": 1},
        ),
        node("o", "output/set", {"name": "first", "value": "${q.results.0.name} costs ${q.results.0.price}"}),
    )
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"first": "apple costs 1.5"}
    out = outputs_of(result, "q")
    assert out["row_count"] == 2 and out["columns"] == ["name", "price"] and out["truncated"] is False


def test_postgres_positional_parameters_are_values_never_sql(pg_table):
    hostile = "x'); DROP TABLE " + pg_table + "; --"
    f = chain(
        sql(
            "sql/postgresql",
            PG,
            query=f"INSERT INTO {pg_table} (name, meta) VALUES (%s, %s)",
            parameters=[hostile, {"k": [1, 2]}],
        )
    )
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "q")["row_count"] == 1 and outputs_of(result, "q")["affected_rows"] == 1
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres") as conn:
        assert conn.execute(f"SELECT meta FROM {pg_table} WHERE name = %s", [hostile]).fetchone() == (
            {"k": [1, 2]},
        )


def test_postgres_a_failing_statement_in_a_transaction_undoes_the_earlier_ones(pg_table):
    steps = [
        {"query": f"UPDATE {pg_table} SET price = 99 WHERE name = %s", "parameters": ["apple"]},
        {"query": f"INSERT INTO {pg_table} (name) VALUES (%s)", "parameters": ["pear"]},  # unique violation
    ]
    result, _ = run(chain(sql("sql/postgresql", PG, statements=steps, transaction=True)))
    assert result.status == "failed"
    assert "rolled back" in result.error and "duplicate key" in result.error
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres") as conn:
        assert conn.execute(f"SELECT price FROM {pg_table} WHERE name = 'apple'").fetchone()[0] == 1.5
    # Without a transaction the first statement stays done.
    result, _ = run(chain(sql("sql/postgresql", PG, statements=steps)))
    assert result.status == "failed"
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres") as conn:
        assert conn.execute(f"SELECT price FROM {pg_table} WHERE name = 'apple'").fetchone()[0] == 99


def test_postgres_statements_in_a_transaction_all_take_effect_and_report_each(pg_table):
    steps = [
        {"query": f"INSERT INTO {pg_table} (name, price) VALUES (%s, %s)", "parameters": ["plum", 3]},
        f"SELECT count(*) AS n FROM {pg_table}",
    ]
    result, _ = run(chain(sql("sql/postgresql", PG, statements=steps, transaction=True)))
    out = outputs_of(result, "q")
    assert out["results"] == [{"n": 3}]
    assert [s["row_count"] for s in out["statement_results"]] == [1, 1]


def test_postgres_rows_past_the_cap_are_not_returned_and_a_slow_statement_times_out():
    result, _ = run(
        chain(sql("sql/postgresql", PG, query="SELECT generate_series(1, 100000) AS n", max_rows=5))
    )
    out = outputs_of(result, "q")
    assert [r["n"] for r in out["results"]] == [1, 2, 3, 4, 5] and out["truncated"] is True
    result, _ = run(chain(sql("sql/postgresql", PG, query="SELECT pg_sleep(5)", timeout_seconds=1)))
    assert result.status == "failed" and "timed out" in result.error


def test_postgres_a_wrong_database_or_role_is_named_and_the_password_never_shown():
    # Authentication here is `trust` for 127.0.0.1 (no password can be wrong), so a wrong login is a role
    # or database that does not exist.
    result, _ = run(
        chain(sql("sql/postgresql", PG, database="no_such_db", password="hunter2-secret", query="SELECT 1"))
    )
    assert result.status == "failed" and 'database "no_such_db" does not exist' in result.error
    result, _ = run(
        chain(sql("sql/postgresql", PG, username="no_such_role", query="SELECT 1", password="hunter2-secret"))
    )
    assert result.status == "failed" and 'role "no_such_role" does not exist' in result.error
    assert "hunter2-secret" not in result.error


def test_postgres_an_unreachable_server_and_an_unknown_name_say_so():
    result, _ = run(chain(sql("sql/postgresql", PG, port=closed_port(), query="SELECT 1")))
    assert result.status == "failed" and "connection refused" in result.error
    result, _ = run(chain(sql("sql/postgresql", PG, host="no-such-host.invalid", query="SELECT 1")))
    assert result.status == "failed" and "cannot resolve no-such-host.invalid" in result.error


def test_postgres_the_egress_policy_refuses_loopback_by_default():
    settings = ExecutorSettings(log=lambda *a: None)
    result, _ = run(chain(sql("sql/postgresql", PG, query="SELECT 1")), settings=settings)
    assert result.status == "failed" and "egress refused: 127.0.0.1 is a loopback address" in result.error
    result, _ = run(
        chain(sql("sql/postgresql", PG, host="169.254.169.254", query="SELECT 1")), settings=settings
    )
    assert "link-local" in result.error


def test_postgres_a_stored_connection_is_used_and_inputs_fill_its_blanks(pg_table):
    secrets = StaticSecrets(
        connections={
            "warehouse": {
                "type": "postgresql",
                "fields": {
                    "host": "127.0.0.1",
                    "port": 5432,
                    "username": "postgres",
                    "password": "s3cret-pw",
                    "sslmode": "disable",
                },
            }
        }
    )
    f = chain(
        node(
            "q",
            "sql/postgresql",
            {
                "connection": "warehouse",
                "database": "postgres",
                "query": f"SELECT count(*) AS n FROM {pg_table}",
            },
        )
    )
    result, recorder = run(f, secrets=secrets)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "q")["results"] == [{"n": 2}]
    assert "s3cret-pw" not in json.dumps(recorder.events, default=str)
    wrong = StaticSecrets(connections={"warehouse": {"type": "mysql", "fields": {}}})
    result, _ = run(f, secrets=wrong)
    assert "is a mysql connection, this node needs postgresql" in result.error


# --- MySQL / MariaDB ----------------------------------------------------------------------------------


@pytest.fixture
def my_user():
    name = f"flo_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, "right-pass"))
        cursor.execute(f"GRANT ALL ON test.* TO '{name}'@'%'")
    yield name
    with conn.cursor() as cursor:
        cursor.execute("DROP USER %s@'%%'", (name,))
    conn.close()


def test_mysql_named_and_positional_parameters_and_a_template_reads_the_result(my_table):
    f = chain(
        sql(
            "sql/mysql",
            MY,
            query=f"INSERT INTO {my_table} (name, price) VALUES (%s, %s)",
            parameters=["fig", 4.25],
        ),
        node(
            "s",
            "sql/mysql",
            {
                **MY,
                "query": f"SELECT name, price FROM {my_table} WHERE name = %(n)s",
                "parameters": {"n": "fig"},
            },
        ),
        node("o", "output/set", {"name": "p", "value": "${s.results.0.name}=${s.results.0.price}"}),
    )
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "q")["affected_rows"] == 1
    assert result.outputs == {"p": "fig=4.25"}


def test_mysql_a_transaction_is_all_or_nothing_and_rows_are_capped(my_table):
    steps = [
        {"query": f"UPDATE {my_table} SET price = 99 WHERE name = %s", "parameters": ["apple"]},
        {"query": f"INSERT INTO {my_table} (name) VALUES (%s)", "parameters": ["pear"]},
    ]
    result, _ = run(chain(sql("sql/mysql", MY, statements=steps, transaction=True)))
    assert result.status == "failed" and "rolled back" in result.error and "Duplicate entry" in result.error
    result, _ = run(
        chain(sql("sql/mysql", MY, query=f"SELECT price FROM {my_table} ORDER BY id", max_rows=1))
    )
    out = outputs_of(result, "q")
    assert out["results"] == [{"price": 1.5}] and out["truncated"] is True


def test_mysql_a_wrong_password_is_an_authentication_failure_without_the_password(my_user):
    good = {**MY, "username": my_user, "password": "right-pass", "query": "SELECT CURRENT_USER() AS u"}
    result, _ = run(chain(sql("sql/mysql", good)))
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "q")["results"][0]["u"].startswith(my_user)
    result, _ = run(chain(sql("sql/mysql", {**good, "password": "wrong-pass-123"})))
    assert result.status == "failed"
    assert (
        f"authentication failed for user '{my_user}'" in result.error and "wrong-pass-123" not in result.error
    )


def test_mysql_an_unreachable_server_a_slow_statement_and_the_policy(my_table):
    result, _ = run(chain(sql("sql/mysql", MY, port=closed_port(), query="SELECT 1")))
    assert result.status == "failed" and "connection refused" in result.error
    result, _ = run(chain(sql("sql/mysql", MY, query="SELECT SLEEP(5) AS s", timeout_seconds=1)))
    assert result.status == "failed" and ("timed out" in result.error or "time limit" in result.error)
    result, _ = run(
        chain(sql("sql/mysql", MY, query="SELECT 1")), settings=ExecutorSettings(log=lambda *a: None)
    )
    assert "egress refused" in result.error
    result, _ = run(chain(sql("sql/mysql", MY, host="localhost", query="SELECT 1")))
    assert "egress refused" in result.error and "unix socket" in result.error


def test_mysql_a_stored_connection(my_user, my_table):
    secrets = StaticSecrets(
        connections={
            "shop": {
                "type": "mysql",
                "fields": {
                    "host": "127.0.0.1",
                    "port": 3306,
                    "username": my_user,
                    "password": "right-pass",
                    "database": "test",
                },
            }
        }
    )
    result, _ = run(
        chain(
            node("q", "sql/mysql", {"connection": "shop", "query": f"SELECT COUNT(*) AS n FROM {my_table}"})
        ),
        secrets=secrets,
    )
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "q")["results"] == [{"n": 2}]
