"""Event rows record where they came from (core.audit.AuditSourceField, a CharField filled on insert).
Rows written before this migration have none (""); on PostgreSQL the constant default adds the column without rewriting the table."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0004_public_ids'),
    ]

    operations = [
        migrations.AddField(
            model_name='returnevent',
            name='audit_source',
            field=models.CharField(blank=True, default='', editable=False, max_length=100, verbose_name='from where'),
        ),
    ]
