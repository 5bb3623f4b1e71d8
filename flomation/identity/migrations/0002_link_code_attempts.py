from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('identity', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='emaillink',
            name='code_attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
