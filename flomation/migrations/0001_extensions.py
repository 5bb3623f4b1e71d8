"""Creates the PostgreSQL extensions the platform uses, or stops before changing anything.

`vector` (pgvector) is required. `pgcrypto` and `uuid-ossp` are created wherever the server ships them
(every packaged PostgreSQL with its contrib modules does); nothing in the schema depends on them, since
gen_random_uuid() is built into PostgreSQL 13+, so a server without them (the embedded one) still works.
"""

from django.core.management.base import CommandError
from django.db import migrations

REQUIRED = ("vector",)
OPTIONAL = ("pgcrypto", "uuid-ossp")


def create_extensions(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")
        database, user, superuser = cursor.fetchone()
        cursor.execute("SELECT name, installed, trusted FROM pg_available_extension_versions "
                       "WHERE name = ANY(%s) AND version = (SELECT default_version FROM pg_available_extensions a "
                       "WHERE a.name = pg_available_extension_versions.name)", [list(REQUIRED + OPTIONAL)])
        available = {name: (installed, trusted) for name, installed, trusted in cursor.fetchall()}
        cursor.execute("SELECT has_database_privilege(current_user, current_database(), 'CREATE')")
        (can_create_in_db,) = cursor.fetchone()

        missing_packages = [name for name in REQUIRED if name not in available]
        to_create = [name for name in REQUIRED + OPTIONAL if name in available and not available[name][0]]
        not_permitted = [
            name for name in to_create if not superuser and not (available[name][1] and can_create_in_db)
        ]
        if missing_packages:
            raise CommandError(
                "The PostgreSQL server has no pgvector extension, which Flomation needs. Install it on the "
                "database server (Debian/Ubuntu: postgresql-<major>-pgvector; EL: pgvector_<major>), then as a "
                f'superuser run: psql -d {database} -c "CREATE EXTENSION IF NOT EXISTS vector;" '
                "and run the migration again. Nothing was changed."
            )
        if not_permitted:
            statements = " ".join(f'CREATE EXTENSION IF NOT EXISTS "{name}";' for name in not_permitted)
            raise CommandError(
                f"The database user {user!r} may not create the extension(s) {', '.join(not_permitted)}. "
                f"As a PostgreSQL superuser run: psql -d {database} -c '{statements}' "
                "and run the migration again. Nothing was changed."
            )
        for name in to_create:
            cursor.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create_extensions, migrations.RunPython.noop)]
