import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="RunnerNonce",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("nonce", models.CharField(max_length=64)),
                ("expires_at", models.DateTimeField(db_index=True)),
                (
                    "runner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.runner"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("runner", "nonce"), name="core_runner_nonce_unique")
                ]
            },
        ),
    ]
