"""Money columns grow to 18 digits (< 10^16) and a customer's total spent to 24 (core.bounds).

PostgreSQL refuses to change the type of a column that a generated column reads, and Django
cannot alter a GeneratedField in place: the two generated columns of an order (is_counted,
net_total) and the covering index that includes them are dropped, the amounts widened, and
both re-added with the same expressions (the database recomputes them for every row).
"""

import django.core.validators
import django.db.models.expressions
from decimal import Decimal
from django.db import migrations, models

COUNTED = models.Case(
    models.When(
        models.Q(("status__in", ["cancelled", "refunded"]), models.Q(("refunded_amount__gte", models.F("total")), ("total__gt", 0)), _connector="OR"),
        then=models.Value(False),
    ),
    default=models.Value(True),
)


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0012_interaction_public_id"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="order", name="crm_order_placed_cover"),
        migrations.RemoveField(model_name="order", name="net_total"),
        migrations.RemoveField(model_name="order", name="is_counted"),
        migrations.AlterField(
            model_name="customer",
            name="total_spent",
            field=models.DecimalField(decimal_places=2, default=Decimal("0"), editable=False, max_digits=24, verbose_name="total spent"),
        ),
        migrations.AlterField(
            model_name="order",
            name="discount",
            field=models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=18, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(Decimal("999999999999999.99"))], verbose_name="discount"),
        ),
        migrations.AlterField(
            model_name="order",
            name="refunded_amount",
            field=models.DecimalField(decimal_places=2, default=Decimal("0"), editable=False, max_digits=18, verbose_name="refunded"),
        ),
        migrations.AlterField(
            model_name="order",
            name="total",
            field=models.DecimalField(decimal_places=2, max_digits=18, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(Decimal("999999999999999.99"))], verbose_name="total"),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="unit_price",
            field=models.DecimalField(decimal_places=2, max_digits=18, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(Decimal("999999999999999.99"))], verbose_name="unit price"),
        ),
        migrations.AddField(
            model_name="order",
            name="is_counted",
            field=models.GeneratedField(db_persist=True, expression=COUNTED, output_field=models.BooleanField(), verbose_name="counted"),
        ),
        migrations.AddField(
            model_name="order",
            name="net_total",
            field=models.GeneratedField(db_persist=True, expression=django.db.models.expressions.CombinedExpression(models.F("total"), "-", models.F("refunded_amount")), output_field=models.DecimalField(decimal_places=2, max_digits=18), verbose_name="net total"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["placed_at", "customer"], include=("is_counted", "net_total"), name="crm_order_placed_cover"),
        ),
    ]
