"""The demo survey's intro said "two quick questions" above four; the page now says how many questions
there are (a count-aware sentence under the intro), so the demo's intro no longer counts them. Only the
demo's exact words change: an intro written by staff is theirs."""

from django.db import migrations

OLD = {"intro_en": "Two quick questions about your last order.", "intro_fa": "دو پرسش کوتاه درباره آخرین سفارش شما.",
       "intro_ar": "سؤالان سريعان عن طلبك الأخير."}
NEW = {"intro_en": "About your last order: it takes a minute.", "intro_fa": "درباره آخرین سفارش شما: یک دقیقه وقت می‌گیرد.",
       "intro_ar": "عن طلبك الأخير: يستغرق دقيقة واحدة."}


def forwards(apps, schema_editor):
    _replace(apps, OLD, NEW)


def backwards(apps, schema_editor):
    _replace(apps, NEW, OLD)


def _replace(apps, old: dict, new: dict) -> None:
    Survey = apps.get_model("feedback", "Survey")
    for field, text in old.items():
        changes = {field: new[field]}
        if field == "intro_en":
            changes["intro"] = new[field]
        Survey.objects.filter(**{field: text}).update(**changes)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0007_return_requested_by_label")]
    operations = [migrations.RunPython(forwards, backwards)]
