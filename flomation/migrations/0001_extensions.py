"""Creates the PostgreSQL extensions (see flomation.db.extensions); `migrate` checks them first."""

from django.core.management.base import CommandError
from django.db import migrations

from flomation.db.extensions import extensions_create, extensions_plan


def create_extensions(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        to_create, problem = extensions_plan(cursor)
        if problem:
            raise CommandError(problem)
        extensions_create(cursor, to_create)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create_extensions, migrations.RunPython.noop)]
