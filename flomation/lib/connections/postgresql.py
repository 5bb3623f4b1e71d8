"""PostgreSQL connections (psycopg 3): opened through the egress policy, pinned to the checked address.

`open_connection` is shared by the `sql/postgresql` node and this type's `test`; `describe_error` turns
psycopg's failures into a sentence that names what failed and never the password.
"""

from __future__ import annotations

import os
import re
from typing import Any

from flomation.lib.connections._common import port_of, scrub
from flomation.lib.connections.base import ConnectionFailed, Field
from flomation.lib.egress import EgressPolicy, postgres_params_checked

KIND = "postgresql"
LABEL = "PostgreSQL"
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
FIELDS = (
    Field("host", required=True, description="Server name or address."),
    Field("port", "integer", default=5432),
    Field("database", description="Database name (the user's own when blank)."),
    Field("username", required=True),
    Field("password", "secret"),
    Field("sslmode", "choice", default="prefer", options=SSL_MODES, description="libpq's sslmode."),
)


def open_connection(
    fields: dict[str, Any],
    policy: EgressPolicy,
    *,
    timeout: float,
    statement_timeout: float | None = None,
    autocommit: bool = True,
) -> Any:
    """A psycopg connection to the checked address (the name is kept for TLS and server messages).

    Raises EgressDenied when the policy refuses the host, ConnectionFailed for anything else."""
    import psycopg

    host = str(fields.get("host") or "").strip()
    if not host:
        raise ConnectionFailed("no host given")
    sslmode = str(fields.get("sslmode") or "prefer")
    if sslmode not in SSL_MODES:
        raise ConnectionFailed(f"sslmode must be one of: {', '.join(SSL_MODES)} (got {sslmode[:40]!r})")
    params = {
        "host": host,
        "port": str(port_of(fields.get("port"), 5432)),
        "dbname": str(fields.get("database") or fields.get("username") or ""),
        "user": str(fields.get("username") or ""),
        "sslmode": sslmode,
    }
    try:
        checked = postgres_params_checked(params, policy)
    except OSError as error:  # the name does not resolve
        raise ConnectionFailed(str(error)) from None
    # Nothing comes from the connecting machine: no ~/.pgpass, no service file, no PG* variables' files.
    checked["passfile"] = os.path.join(os.devnull, "none")  # a path that cannot exist: no password file
    checked["password"] = str(fields.get("password") or "")
    checked["connect_timeout"] = str(max(2, int(timeout)))
    checked["application_name"] = "flomation"
    try:
        connection = psycopg.connect(autocommit=autocommit, **checked)
    except psycopg.Error as error:
        raise ConnectionFailed(describe_error(error, fields)) from None
    if statement_timeout:
        # Set after connecting rather than as a startup option, which poolers such as PgBouncer refuse.
        milliseconds = str(max(1, int(statement_timeout * 1000)))
        connection.execute("SELECT set_config('statement_timeout', %s, false)", [milliseconds])
        if not autocommit:
            connection.commit()
    return connection


def describe_error(error: BaseException, fields: dict[str, Any]) -> str:
    """What failed, in a sentence: authentication, an unknown database or role, refused, timeout, TLS or
    the SQL itself (with the server's message). The password never appears."""
    import psycopg

    message = str(error).strip()
    low = message.lower()
    user = str(fields.get("username") or "")
    where = f"{fields.get('host')}:{port_of(fields.get('port'), 5432)}"
    if isinstance(error, psycopg.OperationalError) and not getattr(error, "sqlstate", None):
        if "password authentication failed" in low or "authentication failed" in low:
            text = f"authentication failed for user '{user}'"
        elif "no password supplied" in low:
            text = f"authentication failed for user '{user}': the server wants a password"
        elif "connection refused" in low:
            text = f"could not connect to {where}: connection refused"
        elif "timeout expired" in low or "timed out" in low:
            text = f"could not connect to {where}: timed out"
        elif "ssl" in low:
            text = f"TLS failed with {where}: {_last_line(message)}"
        elif "does not exist" in low:
            text = _last_line(message)
        else:
            text = f"could not connect to {where}: {_last_line(message)}"
    elif isinstance(error, psycopg.errors.QueryCanceled):
        text = "the statement timed out (statement timeout)"
    elif isinstance(error, psycopg.errors.InvalidPassword | psycopg.errors.InvalidAuthorizationSpecification):
        text = f"authentication failed for user '{user}'"
    else:
        state = getattr(error, "sqlstate", None)
        diag = getattr(error, "diag", None)
        primary = (getattr(diag, "message_primary", None) or _last_line(message))[:300]
        detail = getattr(diag, "message_detail", None)
        text = f"SQL error{f' {state}' if state else ''}: {primary}" + (
            f" ({detail[:200]})" if detail else ""
        )
    return scrub(text, fields)


def _last_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = next((line for line in lines if line.upper().startswith("FATAL")), lines[-1] if lines else "")
    text = text.split("FATAL:", 1)[-1].strip()
    text = re.sub(r'^connection failed: (connection to server at "[^"]*", port \d+ failed: )?', "", text)
    return text[:300]


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    connection = open_connection(fields, policy, timeout=timeout, statement_timeout=timeout)
    try:
        row = connection.execute("SELECT current_user, current_database(), current_setting('server_version')")
        user, database, version = row.fetchone()
    finally:
        connection.close()
    return f"connected to PostgreSQL {version} as '{user}', database '{database}'"
