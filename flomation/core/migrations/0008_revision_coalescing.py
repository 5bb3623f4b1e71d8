from django.db import migrations, models


def seal_existing(apps, schema_editor):
    # Revisions saved before coalescing existed stay as they are: none is updated in place.
    apps.get_model("core", "Revision").objects.update(sealed=True)


class Migration(migrations.Migration):
    dependencies = [("core", "0007_registration_failure")]

    operations = [
        migrations.AddField(
            model_name="revision", name="edits", field=models.PositiveIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="revision", name="updated_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(model_name="revision", name="sealed", field=models.BooleanField(default=False)),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
    ]
