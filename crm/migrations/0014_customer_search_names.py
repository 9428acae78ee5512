"""The customers' names as the search box compares them (issue 15): `search_name` (normalized
"first last") and `search_last_name`, filled for the existing customers in batches, then indexed
for prefix search on PostgreSQL (the pattern operator class: `LIKE 'x%'` under any collation;
covering, so that a prefix matching many customers is an index-only scan).

They replace the UPPER(first_name) / UPPER(last_name) indexes of 0004, which served the old
name branches of the search and nothing else.

The normalization is core.text.normalize_for_search, copied here as it is today (a migration
does not import the project's code, which changes later). The fill runs before the indexes are
built: on a million customers that is one index build instead of a million index updates. On a
live database, build the indexes beforehand with CREATE INDEX CONCURRENTLY and the same names.
"""

import unicodedata

import core.indexes
from django.db import migrations, models

BATCH = 5000
LENGTH = 255

_DIGITS = {ord(persian): str(value) for value, persian in enumerate("۰۱۲۳۴۵۶۷۸۹")}
_DIGITS |= {ord(arabic): str(value) for value, arabic in enumerate("٠١٢٣٤٥٦٧٨٩")}
_LETTERS = {
    "\u064a": "\u06cc", "\u0649": "\u06cc",
    "\u0643": "\u06a9", "\u06aa": "\u06a9",
    "\u0629": "\u0647", "\u06c0": "\u0647", "\u06c1": "\u0647", "\u06d5": "\u0647",
    "\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627",
}
_IGNORED = (
    "\u0640\u0670\u200b\u200c\u200d\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    + "".join(chr(code) for code in range(0x064B, 0x0660))
)
_TABLE = str.maketrans({**_DIGITS, **{ord(k): v for k, v in _LETTERS.items()}, **{ord(c): None for c in _IGNORED}})


def normalize_for_search(text):
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_TABLE)
    return " ".join(text.casefold().split())


def fill(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    last_id = 0
    while True:
        rows = list(
            Customer.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", "first_name", "last_name")[:BATCH]
        )
        if not rows:
            return
        last_id = rows[-1][0]
        changed = []
        for pk, first_name, last_name in rows:
            search_name = normalize_for_search(f"{first_name} {last_name}")[:LENGTH]
            search_last_name = normalize_for_search(last_name)[:LENGTH]
            if search_name or search_last_name:
                changed.append(Customer(pk=pk, search_name=search_name, search_last_name=search_last_name))
        Customer.objects.bulk_update(changed, ["search_name", "search_last_name"], batch_size=1000)


def analyze(apps, schema_editor):
    # Every row was just rewritten: without fresh statistics the planner guesses the new columns'
    # selectivity until autovacuum gets to the table.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE crm_customer")


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0013_money_bounds"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="customer", name="crm_customer_first_name_cover"),
        migrations.RemoveIndex(model_name="customer", name="crm_customer_last_name_cover"),
        migrations.AddField(
            model_name="customer",
            name="search_last_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name="customer",
            name="search_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=255),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="customer",
            index=core.indexes.PostgresOnlyIndex(
                fields=["search_name"], include=("search_last_name", "id"), name="crm_customer_search_name",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=core.indexes.PostgresOnlyIndex(
                fields=["search_last_name"], include=("id",), name="crm_customer_search_last_name",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=False),
    ]
