"""Demo data describes the past: nothing a customer or staff member did is dated after the anchor."""

from datetime import datetime

import pytest
import time_machine
from django.apps import apps
from django.db import models
from django.db.models import Max

from core import demo

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2026-03-10T10:30:00+00:00")
# Dates that are in the future by nature: when something expires, is valid until, or is due.
FUTURE_BY_NATURE = ("expires", "valid_until", "follow_up", "scheduled", "due", "next_", "until", "ends")


def dated_fields():
    for model in apps.get_models():
        if model._meta.app_label not in ("crm", "club", "feedback", "campaigns", "analytics", "core", "api"):
            continue
        if model._meta.label == "campaigns.Automation":
            continue  # written by a migration (when the database was made), not by the demo
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateTimeField) and not any(word in field.name for word in FUTURE_BY_NATURE):
                yield model, field.name


@time_machine.travel(NOW, tick=False)
def test_it_dates_no_survey_answer_order_or_points_after_today():
    demo.seed_demo(customers=150, seed=11, now=NOW)
    from feedback.models import Response

    assert Response.objects.exists()  # the survey step ran
    late = {}
    for model, name in dated_fields():
        latest = model._default_manager.aggregate(latest=Max(name))["latest"]
        if latest is not None and latest > NOW:
            late[f"{model._meta.label}.{name}"] = latest
    assert late == {}
