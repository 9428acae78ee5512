"""Event rows record where they came from (core.audit.AuditSourceField, a CharField filled on insert).
Rows written before this migration have none (""); on PostgreSQL the constant default adds the column without rewriting the table."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('club', '0004_public_ids'),
    ]

    operations = [
        migrations.AddField(
            model_name='couponredemption',
            name='audit_source',
            field=models.CharField(blank=True, default='', editable=False, max_length=100, verbose_name='from where'),
        ),
        migrations.AddField(
            model_name='pointstransaction',
            name='audit_source',
            field=models.CharField(blank=True, default='', editable=False, max_length=100, verbose_name='from where'),
        ),
        migrations.AddField(
            model_name='tierchange',
            name='audit_source',
            field=models.CharField(blank=True, default='', editable=False, max_length=100, verbose_name='from where'),
        ),
    ]
