"""Segment rule fields come from the apps that own their data (core.rule_fields); the compiler in
campaigns knows none of those apps, and its refusals carry a code and params and read in the
reader's language."""

import json

import grimp
import pytest
from django.urls import reverse
from django.utils import translation

from analytics import rule_fields as analytics_fields
from campaigns.rules import RuleError, customers_matching, field_catalogue, validate
from club import rule_fields as club_fields
from core.rule_fields import NUMBER_OPS, RuleField, rule_field_registry
from core.rule_lookups import column_comparison
from crm import rule_fields as crm_fields
from feedback import rule_fields as feedback_fields
from feedback.models import Question, ReturnRequest, Survey
from feedback.services import invitation_create, response_submit
from tests.factories import CustomerFactory


def refusal(rules) -> RuleError:
    with pytest.raises(RuleError) as error:
        validate(rules)
    return error.value


@pytest.mark.parametrize("module, names", [
    (crm_fields, {"first_name", "city", "country", "source", "acquired_at", "tags", "lifecycle_stage", "orders_count",
                  "total_spent", "days_since_last_order", "purchased_category_within_days", "order_channel",
                  "email_opt_in", "sms_opt_in"}),
    (club_fields, {"is_member", "tier", "points_balance", "joined_days_ago"}),
    (feedback_fields, {"nps_category", "csat_score", "has_open_return"}),
    (analytics_fields, {"rfm_segment", "p_alive", "predicted_clv"}),
])
def test_each_app_contributes_its_own_fields_to_the_registry(module, names):
    contributed = {field.name for field in module.FIELDS}
    assert names <= contributed
    for field in module.FIELDS:
        assert rule_field_registry[field.name] is field


def test_the_rule_compiler_imports_nothing_from_club_feedback_or_analytics():
    graph = grimp.build_graph("core", "crm", "club", "feedback", "campaigns", "analytics", "api")
    for app in ("club", "feedback", "analytics", "api"):
        chain = graph.find_shortest_chain(importer="campaigns.rules", imported=app, as_packages=True)
        assert chain is None, f"campaigns.rules reaches {app}: {' -> '.join(chain)}"


@pytest.mark.django_db
def test_the_latest_csat_answer_selects_the_satisfied_customers():
    survey = Survey.objects.create(title="CSAT")
    question = Question.objects.create(survey=survey, type="rating", scores="csat", text="Happy?")
    ali, sara, _never_asked = CustomerFactory(first_name="Ali"), CustomerFactory(first_name="Sara"), CustomerFactory()
    for customer, scores in ((ali, [1, 5]), (sara, [4, 2])):
        for score in scores:
            invite = invitation_create(survey=survey, customer=customer, respect_cooldown=False)
            response_submit(survey=survey, invitation=invite.invitation, answers={question: score})

    def names(rules):
        return set(customers_matching(rules).values_list("first_name", flat=True))

    assert names({"all": [{"field": "csat_score", "op": "gte", "value": 4}]}) == {"Ali"}  # the latest answer counts
    assert names({"all": [{"field": "csat_score", "op": "is_set"}]}) == {"Ali", "Sara"}


def test_the_open_return_states_are_feedbacks_own():
    assert set(ReturnRequest.OPEN_STATES) == {"requested", "approved", "received"}


@pytest.mark.django_db
def test_a_field_registered_for_a_test_is_compiled_and_one_left_out_is_unknown():
    vip = RuleField("vip_score", "VIP score", "number", NUMBER_OPS, column_comparison("orders_count"))
    CustomerFactory(first_name="Ali", orders_count=3)
    CustomerFactory(first_name="Sara", orders_count=0)
    with rule_field_registry.override({"vip_score": vip}):
        assert [row["name"] for row in field_catalogue()] == ["vip_score"]
        matching = customers_matching({"all": [{"field": "vip_score", "op": "gte", "value": 2}]})
        assert list(matching.values_list("first_name", flat=True)) == ["Ali"]
        assert refusal({"all": [{"field": "city", "op": "eq", "value": "x"}]}).code == "unknown_field"


class TestErrors:
    def test_an_unknown_field_gives_its_code_and_params(self):
        error = refusal({"all": [{"field": "city", "op": "eq", "value": "x"},
                                 {"field": "shoe_size", "op": "eq", "value": 42}]})
        assert error.code == "unknown_field"
        assert error.params["path"] == "all[1].field" and error.params["field"] == "shoe_size"
        assert "city" in error.params["known"].split(", ")

    def test_a_bad_value_gives_its_code_and_params(self):
        error = refusal({"all": [{"any": [{"field": "orders_count", "op": "gt", "value": "many"}]}]})
        assert (error.code, error.params) == ("not_a_number", {"path": "all[0].any[0].value", "value": "many"})
        error = refusal({"all": [{"field": "orders_count", "op": "between", "value": [5, 1]}]})
        assert error.code == "low_above_high" and (error.params["low"], error.params["high"]) == (5, 1)

    def test_a_field_refuses_a_value_its_kind_accepts(self):
        error = refusal({"all": [{"field": "p_alive", "op": "in", "value": [0.5, 2]}]})
        assert error.code == "not_a_probability" and error.params["path"] == "all[0].value[1]"

    def test_the_message_reads_in_persian_when_fa_is_active(self):
        error = refusal({"all": [{"field": "shoe_size", "op": "eq", "value": 42}]})
        with translation.override("fa"):
            assert error.messages[0].startswith("all[0].field: فیلد ناشناخته 'shoe_size'؛")
        bad_value = refusal({"all": [{"field": "orders_count", "op": "gt", "value": "many"}]})
        with translation.override("fa"):
            assert bad_value.messages == ["all[0].value: عددی انتظار می‌رفت، 'many' دریافت شد."]
        with translation.override("ar"):
            assert bad_value.messages == ["all[0].value: يجب أن تكون رقمًا، وصل 'many'."]
        with translation.override("en"):
            assert bad_value.messages == ["all[0].value: expected a number, got 'many'."]

    def test_the_labels_are_translated(self):
        with translation.override("fa"):
            assert str(rule_field_registry["tags"].label) == "برچسب‌ها"
            assert str(rule_field_registry["days_since_last_order"].label) == "روزهای گذشته از آخرین سفارش"


@pytest.mark.django_db
class TestAdmin:
    @pytest.fixture(autouse=True)
    def back_to_the_default_language(self):
        # A request in Persian leaves Persian active in this thread (LocaleMiddleware activates, nothing
        # deactivates); the tests after these expect the default language.
        yield
        translation.deactivate()

    def test_the_preview_explains_a_bad_rule_in_the_staff_members_language(self, client, marketing_user):
        client.force_login(marketing_user)
        reply = client.post(reverse("admin:campaigns_segment_preview"),
                            json.dumps({"rules": {"all": [{"field": "shoe", "op": "eq", "value": 1}]}}),
                            content_type="application/json", HTTP_ACCEPT_LANGUAGE="fa")
        assert reply.status_code == 400 and "فیلد ناشناخته 'shoe'" in reply.json()["error"]

    def test_the_rule_builder_offers_the_fields_with_translated_labels(self, client, marketing_user):
        client.force_login(marketing_user)
        page = client.get(reverse("admin:campaigns_segment_add"), HTTP_ACCEPT_LANGUAGE="fa")
        labels = {field["name"]: field["label"] for field in json.loads(catalogue_script(page.content.decode()))}
        assert labels["tags"] == "برچسب‌ها" and labels["p_alive"] == "احتمال ادامه خرید (۰ تا ۱)"
        assert not [label for label in labels.values() if any(code in label for code in ("P(alive)", "CLV", "RFM", "BG/NBD"))]


def catalogue_script(html: str) -> str:
    """The JSON the rule builder reads (json_script's <script id="rule-builder-catalogue">)."""
    start = html.index('id="rule-builder-catalogue"')
    start = html.index(">", start) + 1
    return html[start:html.index("</script>", start)]
