"""The postgresql, mysql, redis and mongodb connection types: their fields and a `test` that connects for
real through the egress policy (the servers on this machine)."""

from __future__ import annotations

import socket
import uuid

import pymysql
import pytest
import redis

from flomation.lib import connections
from flomation.lib.connections import ConnectionFailed
from flomation.lib.egress import EgressDenied, EgressPolicy

LOOPBACK = EgressPolicy.build(allow=["127.0.0.0/8"])
STRICT = EgressPolicy()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_each_type_is_found_with_its_fields_and_secret_fields():
    found = connections.types()
    for kind in ("postgresql", "mysql", "redis", "mongodb"):
        assert kind == found[kind].KIND
    names = {kind: [f.name for f in found[kind].FIELDS] for kind in ("postgresql", "mysql", "redis")}
    assert names["postgresql"] == ["host", "port", "database", "username", "password", "sslmode"]
    assert names["mysql"] == ["host", "port", "database", "username", "password"]
    assert names["redis"] == ["host", "port", "database", "username", "password", "tls"]
    secret = {f.name for f in found["mongodb"].FIELDS if f.secret}
    assert secret == {"uri", "password"}


def test_postgresql_connects_and_names_a_wrong_database_or_role():
    pg = connections.get("postgresql")
    fields = {"host": "127.0.0.1", "port": 5432, "username": "postgres", "database": "postgres"}
    assert pg.test(fields, LOOPBACK, 5).startswith("connected to PostgreSQL ")
    # 127.0.0.1 uses trust authentication on this machine: no password is ever wrong, so the bad
    # credential is a role that does not exist.
    with pytest.raises(ConnectionFailed, match='role "nobody_here" does not exist') as failed:
        pg.test({**fields, "username": "nobody_here", "password": "pw-never-shown"}, LOOPBACK, 5)
    assert "pw-never-shown" not in str(failed.value)
    with pytest.raises(ConnectionFailed, match="connection refused"):
        pg.test({**fields, "port": closed_port()}, LOOPBACK, 5)
    with pytest.raises(EgressDenied, match="loopback"):
        pg.test(fields, STRICT, 5)


@pytest.fixture
def mysql_user():
    name = f"flo_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, "good-pass"))
    yield name
    with conn.cursor() as cursor:
        cursor.execute("DROP USER %s@'%%'", (name,))
    conn.close()


def test_mysql_connects_and_a_wrong_password_fails_without_showing_it(mysql_user):
    my = connections.get("mysql")
    fields = {"host": "127.0.0.1", "port": 3306, "username": mysql_user, "password": "good-pass"}
    assert "MariaDB" in my.test(fields, LOOPBACK, 5)
    with pytest.raises(ConnectionFailed, match=f"authentication failed for user '{mysql_user}'") as failed:
        my.test({**fields, "password": "bad-pass-456"}, LOOPBACK, 5)
    assert "bad-pass-456" not in str(failed.value)
    with pytest.raises(ConnectionFailed, match="database 'nope_db' does not exist"):
        my.test({**fields, "username": "root", "password": "", "database": "nope_db"}, LOOPBACK, 5)
    with pytest.raises(ConnectionFailed, match="connection refused"):
        my.test({**fields, "port": closed_port()}, LOOPBACK, 5)
    with pytest.raises(EgressDenied):
        my.test(fields, STRICT, 5)


@pytest.fixture
def redis_user():
    name = f"flo_{uuid.uuid4().hex[:8]}"
    admin = redis.Redis(host="127.0.0.1", port=6379)
    admin.acl_setuser(
        name, enabled=True, passwords=["+good-pass"], keys=["*"], channels=["*"], commands=["+@all"]
    )
    yield name
    admin.acl_deluser(name)
    admin.close()


def test_redis_connects_and_a_wrong_password_fails_without_showing_it(redis_user):
    rd = connections.get("redis")
    fields = {"host": "127.0.0.1", "port": 6379, "username": redis_user, "password": "good-pass"}
    assert rd.test(fields, LOOPBACK, 5).startswith("connected to Redis ")
    with pytest.raises(ConnectionFailed, match=f"authentication failed for user '{redis_user}'") as failed:
        rd.test({**fields, "password": "bad-pass-789"}, LOOPBACK, 5)
    assert "bad-pass-789" not in str(failed.value)
    with pytest.raises(ConnectionFailed, match="connection refused"):
        rd.test({**fields, "port": closed_port()}, LOOPBACK, 5)
    with pytest.raises(EgressDenied):
        rd.test(fields, STRICT, 5)


def test_mongodb_refuses_what_the_policy_cannot_check_before_connecting():
    mg = connections.get("mongodb")
    with pytest.raises(EgressDenied, match="SRV"):
        mg.test({"uri": "mongodb+srv://u:p@cluster.example.com/db"}, LOOPBACK, 2)
    with pytest.raises(EgressDenied, match="several hosts"):
        mg.test({"uri": "mongodb://a.example.com:27017,b.example.com:27017/db"}, LOOPBACK, 2)
    with pytest.raises(EgressDenied, match="loopback"):
        mg.test({"uri": "mongodb://u:pw@127.0.0.1:27017/db"}, STRICT, 2)
    with pytest.raises(EgressDenied, match="link-local"):
        mg.test({"host": "169.254.169.254"}, STRICT, 2)


def test_mongodb_an_unreachable_server_is_named_without_the_uri_password():
    mg = connections.get("mongodb")
    with pytest.raises(ConnectionFailed, match="could not connect to") as failed:
        mg.test({"uri": f"mongodb://user:topsecret-pw@127.0.0.1:{closed_port()}/db"}, LOOPBACK, 2)
    assert "topsecret-pw" not in str(failed.value)


def test_the_nodes_describe_every_input_and_name_the_connection_type_they_pick():
    from flomation.executor import manifest

    entries = {entry["action"]: entry for entry in manifest()["nodes"]}
    pickers = {
        "sql/postgresql": "postgresql",
        "sql/mysql": "mysql",
        "nosql/redis": "redis",
        "nosql/mongodb": "mongodb",
    }
    for action in (*pickers, "file/read", "file/write", "web/fetch"):
        entry = entries[action]
        assert all(item["description"] for item in entry["inputs"]), action
        connection = [item for item in entry["inputs"] if item["type"] == "connection"]
        assert [item.get("connection") for item in connection] == (
            [pickers[action]] if action in pickers else []
        )
    names = [item["name"] for item in entries["sql/postgresql"]["inputs"]]
    assert {"host", "port", "username", "password", "database", "query", "ssl_mode"} <= set(names)
    assert [item["name"] for item in entries["file/read"]["inputs"]][0] == "file_path"
    assert {"content", "file_name", "file_size", "success"} <= {
        o["name"] for o in entries["file/read"]["outputs"]
    }


def test_postgresql_tls_required_of_a_server_without_it_is_a_tls_failure():
    pg = connections.get("postgresql")
    fields = {"host": "127.0.0.1", "username": "postgres", "database": "postgres", "sslmode": "require"}
    with pytest.raises(
        ConnectionFailed, match="^TLS failed with 127.0.0.1:5432: server does not support SSL"
    ):
        pg.test(fields, LOOPBACK, 5)
