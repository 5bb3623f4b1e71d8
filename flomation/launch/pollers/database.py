"""`trigger/database_row`: new rows of a PostgreSQL table, in order of an increasing column.

Inputs: `connection` (a secret libpq URL or DSN), `table`, `schema` (default public), `column` (increasing:
an id or a created-at time), `batch_size` (default 100), `include_existing` (default false: the first poll
remembers the current maximum and starts nothing). One execution per row, in column order.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from flomation.launch.config import as_bool, as_int, first
from flomation.launch.models import Trigger
from flomation.launch.pollers import PollError, PollEvent, PollResult, egress_policy_for
from flomation.lib.egress import postgres_params_checked


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _cursor_value(value: Any) -> dict[str, Any]:
    kind = {dt.datetime: "datetime", dt.date: "date", decimal.Decimal: "decimal"}.get(type(value), "plain")
    return {"last": _to_json(value), "type": kind}


def _from_cursor(cursor: dict[str, Any]) -> Any:
    value, kind = cursor.get("last"), cursor.get("type")
    if value is None:
        return None
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "decimal":
        return decimal.Decimal(value)
    return value


class DatabaseRowPoller:
    def poll(
        self,
        *,
        trigger: Trigger,
        config: dict[str, Any],
        secrets: dict[str, Any],
        cursor: Any,
        now: dt.datetime,
    ) -> PollResult:
        dsn = str(secrets.get("connection") or secrets.get("dsn") or "")
        table, column = first(config, "table"), first(config, "column", "order_column")
        if not dsn or not table or not column:
            raise PollError("set connection, table and column (an increasing column such as id)")
        schema = str(first(config, "schema", default="public"))
        batch = as_int(config.get("batch_size"), 100, minimum=1, maximum=1000)
        source = sql.Identifier(schema, str(table))
        ordering = sql.Identifier(str(column))
        try:
            parsed = psycopg.conninfo.conninfo_to_dict(dsn)
        except psycopg.Error:
            raise PollError(
                "the connection string is not valid: use postgresql://user@host:port/database or "
                "host=... dbname=... key=value pairs"
            ) from None
        # Every host checked and pinned to its checked address; sockets and files refused unless allowed.
        params = {**postgres_params_checked(parsed, egress_policy_for(trigger)), "connect_timeout": "10"}
        with psycopg.connect(**params, autocommit=True, row_factory=dict_row) as conn:
            conn.read_only = True
            if cursor is None and not as_bool(config.get("include_existing")):
                row = conn.execute(
                    sql.SQL("SELECT max({}) AS last FROM {}").format(ordering, source)
                ).fetchone()
                return PollResult(
                    cursor=_cursor_value(row["last"]) if row and row["last"] is not None else {"last": None}
                )
            last = _from_cursor(cursor or {})
            if last is None:
                query = sql.SQL("SELECT * FROM {} ORDER BY {} LIMIT %s").format(source, ordering)
                rows = conn.execute(query, [batch]).fetchall()
            else:
                query = sql.SQL("SELECT * FROM {} WHERE {} > %s ORDER BY {} LIMIT %s").format(
                    source, ordering, ordering
                )
                rows = conn.execute(query, [last, batch]).fetchall()
        if not rows:
            return PollResult(cursor=cursor or {"last": None})
        events = []
        for row in rows:
            data = {key: _to_json(value) for key, value in row.items()}
            events.append(
                PollEvent(
                    data={"table": f"{schema}.{table}", "row": data, **data},
                    key=f"{table}:{data[str(column)]}",
                )
            )
        return PollResult(cursor=_cursor_value(rows[-1][str(column)]), events=events)
