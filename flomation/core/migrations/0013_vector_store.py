"""The organisation-scoped vector store's two tables (layout and index strategy: flomation.lib.vectors), and
the cache of the node catalogue's embeddings for the editor's search by meaning."""

from django.db import migrations

from flomation.lib.vectors.catalogue import TABLE, catalogue_schema_create
from flomation.lib.vectors.schema import schema_create, schema_drop


def create(apps, schema_editor):
    schema_create(schema_editor.connection.connection)
    catalogue_schema_create(schema_editor.connection.connection)


def drop(apps, schema_editor):
    schema_drop(schema_editor.connection.connection)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("core", "0012_ai_usage_memory")]
    operations = [migrations.RunPython(create, drop)]
