"""The PostgreSQL extensions the platform needs, checked before any migration changes anything.

`vector` (pgvector) is required on the database that holds core's tables; identity's own database
(IDENTITY_DATABASE_URL) holds no vector column and is never checked (flomation.db.routers). `pgcrypto` and `uuid-ossp` are created wherever the server ships them
(every packaged PostgreSQL with its contrib modules does). Nothing in the schema depends on them, since
gen_random_uuid() is built into PostgreSQL 13+, so a server without them (the embedded one) still works.
"""

from __future__ import annotations

from typing import Any

REQUIRED = ("vector",)
OPTIONAL = ("pgcrypto", "uuid-ossp")


def extensions_plan(cursor: Any) -> tuple[list[str], str | None]:
    """Returns (extensions to create, problem). A problem is a message saying exactly what to do."""
    cursor.execute(
        "SELECT current_database(), current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
        " has_database_privilege(current_user, current_database(), 'CREATE')"
    )
    database, user, superuser, can_create = cursor.fetchone()
    cursor.execute(
        "SELECT e.name, e.installed_version IS NOT NULL, COALESCE(v.trusted, false)"
        " FROM pg_available_extensions e LEFT JOIN pg_available_extension_versions v"
        " ON v.name = e.name AND v.version = e.default_version WHERE e.name = ANY(%s)",
        [list(REQUIRED + OPTIONAL)],
    )
    available = {name: (installed, trusted) for name, installed, trusted in cursor.fetchall()}
    if any(name not in available for name in REQUIRED):
        return [], (
            "The PostgreSQL server has no pgvector extension, which Flomation needs. Install it on the "
            "database server (Debian/Ubuntu: postgresql-<major>-pgvector; EL: pgvector_<major>), then as a "
            f'superuser run: psql -d {database} -c "CREATE EXTENSION IF NOT EXISTS vector;" '
            "and run the migration again. Nothing was changed."
        )
    to_create = [name for name in REQUIRED + OPTIONAL if name in available and not available[name][0]]
    refused = [name for name in to_create if not superuser and not (available[name][1] and can_create)]
    if refused:
        statements = " ".join(f'CREATE EXTENSION IF NOT EXISTS "{name}";' for name in refused)
        return [], (
            f"The database user {user!r} may not create the extension(s) {', '.join(refused)}. "
            f"As a PostgreSQL superuser run: psql -d {database} -c '{statements}' "
            "and run the migration again. Nothing was changed."
        )
    return to_create, None


def extensions_create(cursor: Any, names: list[str]) -> None:
    for name in names:
        cursor.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
