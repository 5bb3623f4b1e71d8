"""The organisation-scoped vector store's two tables (layout and index strategy: flomation.lib.vectors)."""

from django.db import migrations

from flomation.lib.vectors.schema import schema_create, schema_drop


def create(apps, schema_editor):
    schema_create(schema_editor.connection.connection)


def drop(apps, schema_editor):
    schema_drop(schema_editor.connection.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0009_connections")]
    operations = [migrations.RunPython(create, drop)]
