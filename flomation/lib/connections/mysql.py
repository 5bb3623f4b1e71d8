"""MySQL and MariaDB connections (PyMySQL): opened through the egress policy, to the checked address.

PyMySQL is pure Python (no C client library to build on the runner box) and speaks both servers;
`open_connection` is shared by the `sql/mysql` node and this type's `test`.
"""

from __future__ import annotations

from typing import Any

from flomation.lib.connections._common import port_of, scrub
from flomation.lib.connections.base import ConnectionFailed, Field
from flomation.lib.egress import EgressPolicy, mysql_params_checked

KIND = "mysql"
LABEL = "MySQL / MariaDB"
FIELDS = (
    Field("host", required=True, description="Server name or address."),
    Field("port", "integer", default=3306),
    Field("database", description="Default database (schema)."),
    Field("username", required=True),
    Field("password", "secret"),
)

# Server error codes (https://mariadb.com/kb/en/mariadb-error-codes/).
_ACCESS_DENIED = {1044, 1045, 1698}
_UNKNOWN_DATABASE = 1049
_CANNOT_CONNECT = 2003
_STATEMENT_TIMEOUT = {1969, 3024}  # MariaDB max_statement_time, MySQL max_execution_time


def open_connection(
    fields: dict[str, Any], policy: EgressPolicy, *, timeout: float, autocommit: bool = True
) -> Any:
    """A PyMySQL connection (unbuffered dict rows) to the checked address.

    Raises EgressDenied when the policy refuses the host, ConnectionFailed for anything else."""
    import pymysql
    import pymysql.cursors

    host = str(fields.get("host") or "").strip()
    if not host:
        raise ConnectionFailed("no host given")
    try:
        checked = mysql_params_checked({"host": host, "port": port_of(fields.get("port"), 3306)}, policy)
    except OSError as error:  # the name does not resolve
        raise ConnectionFailed(str(error)) from None
    try:
        return pymysql.connect(
            host=checked["host"],
            port=checked["port"],
            user=str(fields.get("username") or ""),
            password=str(fields.get("password") or ""),
            database=str(fields.get("database") or "") or None,
            connect_timeout=max(1.0, float(timeout)),
            read_timeout=max(1.0, float(timeout)) + 5,
            write_timeout=max(1.0, float(timeout)) + 5,
            autocommit=autocommit,
            charset="utf8mb4",
            cursorclass=pymysql.cursors.SSDictCursor,
            local_infile=False,
            read_default_file=None,
        )
    except pymysql.Error as error:
        raise ConnectionFailed(describe_error(error, fields)) from None


def set_statement_timeout(connection: Any, seconds: float) -> None:
    """Caps each statement's run time on the server (MariaDB's max_statement_time, else MySQL's
    max_execution_time, which covers SELECT only); the client's read timeout is the backstop."""
    with connection.cursor() as cursor:
        if "mariadb" in connection.get_server_info().lower():
            cursor.execute("SET SESSION max_statement_time = %s", (float(seconds),))
        else:
            cursor.execute("SET SESSION max_execution_time = %s", (int(seconds * 1000),))


def describe_error(error: BaseException, fields: dict[str, Any]) -> str:
    """What failed, in a sentence (auth, unknown database, refused, timeout, or the SQL error with the
    server's message); never the password."""
    import pymysql

    code = error.args[0] if error.args and isinstance(error.args[0], int) else None
    detail = str(error.args[1]) if len(error.args) > 1 else str(error)
    user = str(fields.get("username") or "")
    where = f"{fields.get('host')}:{fields.get('port') or 3306}"
    if code in _ACCESS_DENIED:
        text = f"authentication failed for user '{user}'" if code == 1045 else f"access denied: {detail}"
    elif code == _UNKNOWN_DATABASE:
        text = f"database '{fields.get('database')}' does not exist"
    elif code == _CANNOT_CONNECT:
        low = detail.lower()
        reason = "timed out" if "timed out" in low else "connection refused" if "refused" in low else detail
        text = f"could not connect to {where}: {reason}"
    elif code in _STATEMENT_TIMEOUT:
        text = "the statement timed out (statement timeout)"
    elif isinstance(error, pymysql.err.OperationalError) and code in (2006, 2013):
        text = f"the connection to {where} was lost (or a statement ran past the time limit)"
    else:
        text = f"SQL error{f' {code}' if code else ''}: {detail[:300]}"
    return scrub(text, fields)


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    connection = open_connection(fields, policy, timeout=timeout)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CURRENT_USER() AS user, DATABASE() AS db, VERSION() AS version")
            row = cursor.fetchone()
    finally:
        connection.close()
    database = f", database '{row['db']}'" if row.get("db") else ""
    return f"connected to {row['version']} as '{row['user']}'{database}"
