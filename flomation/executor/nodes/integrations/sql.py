"""sql/postgresql and sql/mysql: parameterised statements, optionally all in one transaction.

Values reach the server only as parameters (``%s`` positional, ``%(name)s`` named), never spliced into
the text. Every statement runs under a server-side statement timeout, results are capped at ``max_rows``
(PostgreSQL SELECTs and every MySQL statement are read row by row, so a large result is not loaded whole),
and the connection goes to the address the egress policy checked.
"""

from __future__ import annotations

import contextlib
import re

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations._common import (
    json_safe,
    refused,
    row_cap,
    server_inputs,
    statements,
    timeout_of,
)
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext


def _query_inputs() -> tuple[Input, ...]:
    return (
        Input(
            "query",
            "code",
            description="The SQL statement. Put values in 'parameters' and write %s (in order) or %(name)s "
            "where they go; write a literal % as %%.",
        ),
        Input(
            "parameters",
            "object",
            description="Values for the placeholders: an array for %s, an object for %(name)s.",
        ),
        Input(
            "statements",
            "object",
            description="Several statements run in order instead of 'query': an array of SQL strings or "
            '{"query": ..., "parameters": ...} objects. The outputs describe the last one.',
        ),
        Input(
            "transaction",
            "boolean",
            default=False,
            description="Run the statements in one transaction: all take effect or, on any error, none.",
        ),
        Input(
            "timeout_seconds",
            "number",
            default=30,
            description="Time limit for connecting and for each statement (at most 300).",
        ),
        Input(
            "max_rows",
            "integer",
            default=1000,
            description="At most this many rows are returned ('truncated' tells when there were more; "
            "at most 100000).",
        ),
    )


_OUTPUTS = (
    "results:array",
    "row_count:integer",
    "affected_rows:integer",
    "columns:array",
    "truncated:boolean",
    "statement_results:array",
    "success:boolean",
)


@node(
    "sql/postgresql",
    name="PostgreSQL",
    category="database",
    description="Run parameterised SQL on a PostgreSQL server; rows come back as objects.",
    inputs=(
        connection_input("postgresql"),
        *server_inputs(5432),
        Input(
            "ssl_mode",
            "string",
            default="prefer",
            options=("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
            description="TLS: libpq's sslmode (verify-full checks the certificate and the name).",
        ),
        *_query_inputs(),
    ),
    outputs=_OUTPUTS,
    idempotent=False,
)
def postgresql(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections import postgresql as pg

    fields = connection_fields(
        ctx,
        {**inputs, "sslmode": inputs.get("ssl_mode")},
        "postgresql",
        inline=("host", "port", "database", "username", "password", "sslmode"),
        secret=("password",),
    )
    return _run(ctx, inputs, fields, pg, _postgres_statement)


@node(
    "sql/mysql",
    name="MySQL / MariaDB",
    category="database",
    description="Run parameterised SQL on a MySQL or MariaDB server; rows come back as objects.",
    inputs=(
        connection_input("mysql"),
        *server_inputs(3306, database="Default database (schema)."),
        *_query_inputs(),
    ),
    outputs=_OUTPUTS,
    idempotent=False,
)
def mysql(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections import mysql as my

    fields = connection_fields(
        ctx,
        inputs,
        "mysql",
        inline=("host", "port", "database", "username", "password"),
        secret=("password",),
    )
    return _run(ctx, inputs, fields, my, _mysql_statement)


def _run(
    ctx: NodeContext, inputs: dict[str, Any], fields: dict[str, Any], kind: Any, one: Any
) -> dict[str, Any]:
    from flomation.lib.connections.base import ConnectionFailed
    from flomation.lib.egress import EgressDenied

    plan = statements(inputs)
    timeout = timeout_of(ctx, inputs)
    cap = row_cap(inputs)
    transaction = bool(inputs.get("transaction"))
    held: dict[str, Any] = {}

    def work() -> list[dict[str, Any]]:
        if kind.KIND == "postgresql":
            connection = kind.open_connection(fields, ctx.egress, timeout=timeout, statement_timeout=timeout)
        else:
            connection = kind.open_connection(fields, ctx.egress, timeout=timeout, autocommit=not transaction)
            kind.set_statement_timeout(connection, timeout)
        held["connection"] = connection
        try:
            if transaction and kind.KIND == "postgresql":
                with connection.transaction():
                    return [one(connection, query, params, cap) for query, params in plan]
            done = [one(connection, query, params, cap) for query, params in plan]
            if transaction:
                connection.commit()
            return done
        except BaseException:
            if transaction and kind.KIND == "mysql":
                _quietly(connection.rollback)
            raise
        finally:
            _quietly(connection.close)

    def abort() -> None:
        connection = held.get("connection")
        if connection is not None:
            _quietly(getattr(connection, "cancel_safe", None) or connection.close)
            _quietly(connection.close)

    try:
        done = ctx.call_blocking(work, on_abort=abort)
    except EgressDenied as error:
        refused(ctx, error)
    except ConnectionFailed as error:
        raise NodeError(str(error)) from None
    except NodeError:
        raise
    except Exception as error:  # the driver's own errors: a sentence, never the password
        if not _is_driver_error(error):
            raise
        prefix = "the transaction was rolled back: " if transaction else ""
        raise NodeError(prefix + kind.describe_error(error, fields)) from None
    last = done[-1]
    return {**last, "statement_results": done if len(done) > 1 else [], "success": True}


def _is_driver_error(error: Exception) -> bool:
    module = type(error).__module__ or ""
    return module.startswith(("psycopg", "pymysql"))


def _quietly(call: Any) -> None:
    if call is None:
        return
    with contextlib.suppress(Exception):  # closing a connection that already failed
        call()


# A statement that returns rows and is one statement: streamed row by row, so `max_rows` bounds memory.
_STREAMABLE = re.compile(r"^\s*(?:--[^\n]*\n\s*)*\(?\s*(select|with|values|table|show)\b", re.IGNORECASE)


def _postgres_statement(connection: Any, query: str, params: Any, cap: int) -> dict[str, Any]:
    from psycopg.rows import dict_row
    from psycopg.types.json import Jsonb

    if isinstance(params, dict):
        params = {key: Jsonb(value) if isinstance(value, dict) else value for key, value in params.items()}
    elif isinstance(params, list):
        params = [Jsonb(value) if isinstance(value, dict) else value for value in params]
    cursor = connection.cursor(row_factory=dict_row)
    rows: list[dict[str, Any]] = []
    truncated = False
    single = ";" not in query.strip().rstrip(";")
    if single and _STREAMABLE.match(query) and not re.search(r"\b(insert|update|delete)\b", query, re.I):
        for row in cursor.stream(query, params):
            if len(rows) == cap:
                truncated = True
                break
            rows.append(row)
        columns = [c.name for c in cursor.description or ()]
        affected = 0
    else:
        cursor.execute(query, params)
        columns = [c.name for c in cursor.description or ()]
        if cursor.description is not None:
            rows = cursor.fetchmany(cap + 1)
            truncated = len(rows) > cap
            rows = rows[:cap]
            affected = 0
        else:
            affected = max(0, cursor.rowcount)
    cursor.close()
    return _shape(rows, columns, affected, truncated)


def _mysql_statement(connection: Any, query: str, params: Any, cap: int) -> dict[str, Any]:
    import json

    if isinstance(params, dict):
        params = {
            key: json.dumps(value) if isinstance(value, dict) else value for key, value in params.items()
        }
    elif isinstance(params, list):
        params = [json.dumps(value) if isinstance(value, dict) else value for value in params]
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        columns = [c[0] for c in cursor.description or ()]
        rows: list[dict[str, Any]] = []
        truncated = False
        affected = 0
        if cursor.description is not None:
            rows = list(cursor.fetchmany(cap + 1))
            truncated = len(rows) > cap
            rows = rows[:cap]
        else:
            affected = max(0, cursor.rowcount)
    return _shape(rows, columns, affected, truncated)


def _shape(rows: list[dict[str, Any]], columns: list[str], affected: int, truncated: bool) -> dict[str, Any]:
    results = [json_safe(dict(row)) for row in rows]
    return {
        "results": results,
        "row_count": len(results) if columns else affected,
        "affected_rows": affected,
        "columns": columns,
        "truncated": truncated,
    }
