"""Segment rules compile to one SQL query and select exactly the customers they describe."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from campaigns.models import Segment
from campaigns.rules import RuleError, customers_matching, field_catalogue, validate
from campaigns.segments import segment_add_customers, segment_customers, segment_import_csv, segment_save
from club import services as club
from club.models import Tier
from crm import services as crm
from crm.models import Customer
from crm.services import LineInput
from feedback.models import Question, Survey
from feedback.services import invitation_create, response_submit
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def names(rules, **kwargs) -> set[str]:
    return set(customers_matching(rules, **kwargs).values_list("first_name", flat=True))


def cond(field, op, value=None):
    condition = {"field": field, "op": op}
    if value is not None:
        condition["value"] = value
    return condition


@pytest.fixture
def people(place_order):
    today = timezone.localdate()
    ali = CustomerFactory(first_name="Ali", city="Tehran", country="IR", language="fa", gender="male", source="instagram",
                          birth_date=today.replace(year=today.year - 30), email_opt_in=True)
    crm.customer_update(customer=ali, values={}, tags=["vip", "coffee-lover"])
    sara = CustomerFactory(first_name="Sara", city="Shiraz", country="IR", language="fa", gender="female",
                           birth_date=date(1990, 3, 21), sms_opt_in=True)
    john = CustomerFactory(first_name="John", city="London", country="GB", language="en", birth_date=None)
    nora = CustomerFactory(first_name="Nora", city="Dubai", country="AE", language="ar", acquired_at=timezone.now())
    coffee = [LineInput(sku="BEANS", product_name="Beans", category="Coffee", quantity=1, unit_price=Decimal("50"))]
    tea = [LineInput(sku="TEA", product_name="Tea", category="Tea", quantity=1, unit_price=Decimal("20"))]
    place_order(ali, days_ago=10, total="50", lines=coffee, channel="online")
    place_order(ali, days_ago=100, total="150", lines=tea, channel="store")
    place_order(sara, days_ago=120, total="20", lines=tea, channel="store")
    place_order(john, days_ago=400, total="500", lines=coffee, channel="app")
    return {"ali": ali, "sara": sara, "john": john, "nora": nora}


class TestFields:
    @pytest.mark.parametrize("rules, expected", [
        ({"all": [cond("city", "eq", "tehran")]}, {"Ali"}),
        ({"all": [cond("city", "ne", "Tehran")]}, {"Sara", "John", "Nora"}),
        ({"all": [cond("city", "in", ["Shiraz", "dubai"])]}, {"Sara", "Nora"}),
        ({"all": [cond("city", "contains", "on")]}, {"John"}),
        ({"all": [cond("country", "eq", "IR"), cond("gender", "eq", "female")]}, {"Sara"}),
        ({"all": [cond("language", "not_in", ["fa"])]}, {"John", "Nora"}),
        ({"all": [cond("source", "is_set")]}, {"Ali"}),
        ({"all": [cond("birth_date" if False else "age", "eq", 30)]}, {"Ali"}),
        ({"all": [cond("age", "gte", 31)]}, {"Sara"}),
        ({"all": [cond("age", "is_not_set")]}, {"John", "Nora"}),
        ({"all": [cond("birth_month", "eq", 3)]}, {"Sara"}),
        ({"all": [cond("tags", "contains", "vip")]}, {"Ali"}),
        ({"all": [cond("tags", "is_not_set")]}, {"Sara", "John", "Nora"}),
        ({"all": [cond("orders_count", "gte", 2)]}, {"Ali"}),
        ({"all": [cond("total_spent", "between", [100, 300])]}, {"Ali"}),
        ({"all": [cond("average_order_value", "gt", 99)]}, {"Ali", "John"}),
        ({"all": [cond("days_since_last_order", "lt", 30)]}, {"Ali"}),
        ({"all": [cond("days_since_last_order", "between", [90, 200])]}, {"Sara"}),
        ({"all": [cond("days_since_last_order", "is_not_set")]}, {"Nora"}),
        ({"all": [cond("days_since_first_order", "gte", 365)]}, {"John"}),
        ({"all": [cond("purchased_category_within_days", "eq", {"category": "coffee", "days": 90})]}, {"Ali"}),
        ({"all": [cond("purchased_category_within_days", "ne", {"category": "coffee", "days": 90})]}, {"Sara", "John", "Nora"}),
        ({"all": [cond("order_channel", "eq", "store")]}, {"Ali", "Sara"}),
        ({"all": [cond("lifecycle_stage", "eq", "at_risk")]}, {"Sara"}),
        ({"all": [cond("lifecycle_stage", "in", ["churned", "prospect"])]}, {"John", "Nora"}),
        ({"all": [cond("email_opt_in", "eq", True)]}, {"Ali"}),
        ({"all": [cond("sms_opt_in", "ne", True)]}, {"Ali", "John", "Nora"}),
        ({"all": [cond("acquired_at", "eq", timezone.localdate().isoformat())]}, {"Nora"}),
    ])
    def test_each_field_selects_what_it_says(self, people, rules, expected):
        assert names(rules) == expected

    def test_club_fields(self, people):
        Tier.objects.create(name="Bronze", rank=1, threshold=0)
        Tier.objects.create(name="Gold", rank=2, threshold=1000)
        member = club.member_enroll(customer=people["ali"])
        club.points_adjust(member=member, points=120, reason="welcome", by=None)
        assert names({"all": [cond("is_member", "eq", True)]}) == {"Ali"}
        assert names({"all": [cond("is_member", "eq", False)]}) == {"Sara", "John", "Nora"}
        assert names({"all": [cond("tier", "eq", "bronze")]}) == {"Ali"}
        assert names({"all": [cond("points_balance", "gte", 100)]}) == {"Ali"}
        assert names({"all": [cond("joined_days_ago", "lt", 1)]}) == {"Ali"}

    def test_feedback_fields(self, people, place_order):
        survey = Survey.objects.create(title="NPS")
        question = Question.objects.create(survey=survey, type="nps", scores="nps", text="Recommend?")
        for person, scores in (("ali", [2, 10]), ("sara", [6])):
            for score in scores:
                invite = invitation_create(survey=survey, customer=people[person], respect_cooldown=False)
                response_submit(survey=survey, invitation=invite.invitation, answers={question: score})
        assert names({"all": [cond("nps_category", "eq", "promoter")]}) == {"Ali"}  # the latest answer counts
        assert names({"all": [cond("nps_category", "eq", "detractor")]}) == {"Sara"}
        assert names({"all": [cond("nps_category", "is_not_set")]}) == {"John", "Nora"}
        from feedback.services.returns import LineRequest, return_request_create

        order = people["ali"].orders.order_by("-placed_at").first()
        return_request_create(order=order, lines=[LineRequest(order.lines.get().pk, 1, "damaged")])
        assert names({"all": [cond("has_open_return", "eq", True)]}) == {"Ali"}


class TestGroups:
    def test_all_any_and_nested_groups(self, people):
        rules = {"all": [cond("country", "eq", "IR"), {"any": [cond("city", "eq", "Shiraz"), cond("orders_count", "gte", 2)]}]}
        assert names(rules) == {"Ali", "Sara"}
        assert names({"any": [cond("city", "eq", "London"), cond("city", "eq", "Dubai")]}) == {"John", "Nora"}
        assert names({"all": []}) == {"Ali", "Sara", "John", "Nora"}

    def test_the_done_means_segment(self, people, place_order):
        """At-risk Gold members in Tehran who bought coffee in the last 90 days."""
        Tier.objects.create(name="Gold", rank=1, threshold=0)
        club.member_enroll(customer=people["ali"])
        rules = {"all": [
            cond("tier", "eq", "Gold"), cond("city", "eq", "Tehran"),
            cond("purchased_category_within_days", "eq", {"category": "Coffee", "days": 90}),
            cond("lifecycle_stage", "in", ["at_risk", "repeat", "new", "loyal"]),
        ]}
        assert names(rules) == {"Ali"}

    def test_it_is_one_query(self, people, django_assert_num_queries):
        rules = {"all": [cond("tier", "eq", "x") if False else cond("city", "eq", "Tehran"),
                         cond("lifecycle_stage", "ne", "churned"), cond("tags", "in", ["vip"]),
                         {"any": [cond("nps_category", "eq", "promoter"), cond("age", "between", [18, 40])]}]}
        queryset = customers_matching(rules)
        with django_assert_num_queries(1):
            assert queryset.count() == 1


class TestErrors:
    @pytest.mark.parametrize("rules, message", [
        ([], "expected {\"all\": [...]}"),
        ({"every": []}, "expected {\"all\": [...]}"),
        ({"all": [cond("shoe_size", "eq", 42)]}, "all[0].field: unknown field 'shoe_size'"),
        ({"all": [cond("city", "like", "x")]}, "all[0].op: unknown operator 'like'"),
        ({"all": [cond("city", "gt", "x")]}, "the field 'city' does not take 'gt'"),
        ({"all": [cond("orders_count", "gt", "many")]}, "all[0].value: expected a number, got 'many'"),
        ({"all": [cond("orders_count", "gt", True)]}, "expected a number"),
        ({"all": [cond("orders_count", "between", [5, 1])]}, "low value 5 is above the high value 1"),
        ({"all": [cond("orders_count", "between", 5)]}, "takes a list of two values"),
        ({"all": [cond("city", "in", "Tehran")]}, "expected a non-empty list"),
        ({"all": [{"any": [cond("gender", "eq", "robot")]}]}, "all[0].any[0].value: 'robot' is not one of"),
        ({"all": [cond("acquired_at", "gt", "yesterday")]}, "expected a date as YYYY-MM-DD"),
        ({"all": [cond("email_opt_in", "eq", "yes")]}, "expected true or false"),
        ({"all": [cond("purchased_category_within_days", "eq", {"category": "x"})]}, '{"category": "...", "days": N}'),
        ({"all": [cond("purchased_category_within_days", "eq", {"category": "x", "days": 0})]}, "from 1 to"),
        ({"all": [cond("city", "eq")]}, "needs a value"),
        ({"all": [{"field": "city", "op": "eq", "value": "x", "extra": 1}]}, "unknown key 'extra'"),
        ({"all": [cond("orders_count", "gt", "1e400")]}, "not a usable number"),
        ({"all": [{"all": [{"all": [{"all": [{"all": [{"all": []}]}]}]}]}]}, "nested at most"),
    ])
    def test_a_bad_rule_is_refused_with_a_message_that_says_where(self, rules, message):
        with pytest.raises(RuleError) as error:
            validate(rules)
        assert message in error.value.messages[0]

    def test_the_catalogue_lists_every_field_the_issue_names(self):
        names = {field["name"] for field in field_catalogue()}
        assert {"first_name", "last_name", "email", "city", "country", "source", "tags", "gender", "language", "birth_month",
                "age", "acquired_at", "lifecycle_stage", "orders_count", "total_spent", "average_order_value",
                "days_since_last_order", "days_since_first_order", "purchased_category_within_days", "order_channel",
                "is_member", "tier", "points_balance", "joined_days_ago", "nps_category", "has_open_return",
                "email_opt_in", "sms_opt_in"} <= names


class TestSegments:
    def test_segment_create_and_count_commands(self, people, tmp_path, capsys):
        path = tmp_path / "iran.json"
        path.write_text(json.dumps({"all": [cond("country", "eq", "IR")]}))
        call_command("segment_create", "iran", "--name", "Iran", "--rules", str(path))
        assert "Created segment iran: 2 customers." in capsys.readouterr().out
        path.write_text(json.dumps({"all": [cond("country", "eq", "IR"), cond("city", "eq", "Tehran")]}))
        call_command("segment_create", "iran", "--name", "Iran", "--rules", str(path))
        call_command("segment_count", "iran")
        assert capsys.readouterr().out.strip().endswith("1")

    def test_a_bad_rules_file_is_refused_and_nothing_is_saved(self, tmp_path):
        path = tmp_path / "bad.json"
        path.write_text('{"all": [{"field": "nope", "op": "eq", "value": 1}]}')
        with pytest.raises(CommandError, match="unknown field 'nope'"):
            call_command("segment_create", "bad", "--name", "Bad", "--rules", str(path))
        path.write_text("{not json")
        with pytest.raises(CommandError, match="not valid JSON"):
            call_command("segment_create", "bad", "--name", "Bad", "--rules", str(path))
        with pytest.raises(CommandError, match="No segment"):
            call_command("segment_count", "bad")
        assert not Segment.objects.exists()

    def test_a_static_segment_from_a_selection_and_a_csv(self, people):
        segment, _ = segment_save(slug="vip-list", name="VIP list", kind=Segment.Kind.STATIC)
        assert segment_add_customers(segment=segment, customers=Customer.objects.filter(first_name="Ali")) == 1
        assert segment_add_customers(segment=segment, customers=Customer.objects.filter(first_name="Ali")) == 0
        import io

        people["john"].external_ref = "EXT-7"
        people["john"].save()
        result = segment_import_csv(segment=segment, file=io.BytesIO(
            f"email\n{people['sara'].email.upper()}\n".encode()))
        assert result == {"matched": 1, "added": 1}
        segment_import_csv(segment=segment, file=io.BytesIO(b"EXT-7\n"))
        assert set(segment_customers(segment).values_list("first_name", flat=True)) == {"Ali", "Sara", "John"}
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as error:
            segment_import_csv(segment=segment, file=io.BytesIO(b"email\nnobody@example.com\nx@y.z\n"))
        assert error.value.messages == ["line 2: no customer with the email nobody@example.com",
                                        "line 3: no customer with the email x@y.z"]
        assert segment.memberships.count() == 3
