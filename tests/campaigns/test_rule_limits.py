"""Rules with values past what a field can compare are refused with a clear message before any
query runs (issue 16): in the admin's preview (a 400 with the reason, never a 500), by
`segment_create` (a CommandError: exit status 1 and one line, no traceback) and by the API."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from campaigns.models import Segment
from campaigns.rules import RuleError, customers_matching, validate
from tests.factories import CustomerFactory

PREVIEW = "admin:campaigns_segment_preview"
HOSTILE = [
    ({"field": "purchased_category_within_days", "op": "eq", "value": {"category": "coffee", "days": 10**12}},
     "from 1 to 365000"),
    ({"field": "days_since_last_order", "op": "gt", "value": 10**12}, "is out of range"),
    ({"field": "days_since_first_order", "op": "between", "value": [0, 999_999_999_999]}, "is out of range"),
    ({"field": "joined_days_ago", "op": "in", "value": [1, -10**12]}, "is out of range"),
    ({"field": "age", "op": "gte", "value": 10**11}, "is out of range"),
    ({"field": "first_name", "op": "eq", "value": "Sa\x00ra"}, "NUL"),
    ({"field": "tags", "op": "contains", "value": "\x00"}, "NUL"),
    ({"field": "city", "op": "in", "value": ["Tehran", "Shi\x00raz"]}, "NUL"),
    ({"field": "purchased_category_within_days", "op": "eq", "value": {"category": "co\x00ffee", "days": 3}}, "NUL"),
    ({"field": "acquired_at", "op": "lt", "value": "9999-12-31"}, "outside the dates"),
    ({"field": "acquired_at", "op": "gt", "value": "0001-01-01"}, "outside the dates"),
]


def rules_of(condition) -> dict:
    return {"all": [condition]}


@pytest.mark.parametrize("condition, reason", HOSTILE)
def test_it_refuses_a_value_out_of_range_or_with_a_nul_before_any_query(db, condition, reason):
    with pytest.raises(RuleError, match=reason):
        validate(rules_of(condition))


@pytest.mark.parametrize("condition, reason", HOSTILE)
def test_the_admin_preview_explains_a_hostile_rule_with_a_400(client, marketing_user, condition, reason):
    client.force_login(marketing_user)
    reply = client.post(reverse(PREVIEW), json.dumps({"rules": rules_of(condition)}), content_type="application/json")
    assert reply.status_code == 400 and reason in reply.json()["error"]


def test_the_admin_preview_refuses_json_nested_thousands_deep(client, marketing_user):
    client.force_login(marketing_user)
    body = '{"rules": ' + "[" * 100_000 + "]" * 100_000 + "}"
    reply = client.post(reverse(PREVIEW), body, content_type="application/json")
    assert reply.status_code == 400 and reply.json()["error"] == "The rules are not valid JSON."


@pytest.mark.parametrize("condition, reason", HOSTILE)
def test_segment_create_refuses_a_hostile_rule_with_a_command_error(db, tmp_path, condition, reason):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules_of(condition)))
    with pytest.raises(CommandError, match=reason):
        call_command("segment_create", "hostile", "--name", "Hostile", "--rules", str(path))
    assert not Segment.objects.exists()


def test_segment_create_refuses_a_file_nested_thousands_deep(db, tmp_path):
    path = tmp_path / "rules.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError, match="nests too deeply"):
        call_command("segment_create", "deep", "--name", "Deep", "--rules", str(path))


@pytest.mark.parametrize("condition", [
    {"field": "purchased_category_within_days", "op": "eq", "value": {"category": "coffee", "days": 365_000}},
    {"field": "days_since_last_order", "op": "lt", "value": 365_000},
    {"field": "age", "op": "lte", "value": 1_000},
    {"field": "acquired_at", "op": "between", "value": ["1000-01-01", "9998-12-31"]},
])
def test_it_still_counts_with_values_at_the_limits(db, condition):
    CustomerFactory()
    assert customers_matching(rules_of(condition)).count() in (0, 1)
