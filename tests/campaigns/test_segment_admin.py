import json

import pytest
from django.urls import reverse

from campaigns.models import Segment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
PREVIEW = "admin:campaigns_segment_preview"


def preview(client, rules):
    return client.post(reverse(PREVIEW), json.dumps({"rules": rules}), content_type="application/json")


def test_the_builder_shows_the_live_count_and_a_sample(client, marketing_user):
    CustomerFactory(first_name="Ali", city="Tehran")
    CustomerFactory(first_name="John", city="London")
    client.force_login(marketing_user)
    reply = preview(client, {"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})
    assert reply.status_code == 200
    data = reply.json()
    assert data["count"] == 1 and data["sample"][0]["name"].startswith("Ali")


def test_a_bad_rule_gets_its_message_not_a_500(client, marketing_user):
    client.force_login(marketing_user)
    reply = preview(client, {"all": [{"field": "shoe", "op": "eq", "value": 1}]})
    assert reply.status_code == 400 and "unknown field 'shoe'" in reply.json()["error"]
    reply = client.post(reverse(PREVIEW), "{nope", content_type="application/json")
    assert reply.status_code == 400


def test_a_marketer_saves_a_segment_through_the_form(client, marketing_user):
    CustomerFactory(city="Tehran")
    client.force_login(marketing_user)
    page = client.get(reverse("admin:campaigns_segment_add"))
    assert page.status_code == 200 and "rule-builder-catalogue" in page.content.decode()
    reply = client.post(reverse("admin:campaigns_segment_add"), {
        "name": "Tehran", "slug": "tehran", "description": "", "kind": "dynamic",
        "rules": json.dumps({"all": [{"field": "city", "op": "eq", "value": "Tehran"}]}),
    })
    assert reply.status_code == 302
    assert Segment.objects.get(slug="tehran").size == 1


def test_the_form_refuses_bad_rules_and_saves_nothing(client, marketing_user):
    client.force_login(marketing_user)
    reply = client.post(reverse("admin:campaigns_segment_add"), {
        "name": "Bad", "slug": "bad", "kind": "dynamic", "rules": json.dumps({"all": [{"field": "x", "op": "eq", "value": 1}]}),
    })
    assert reply.status_code == 200 and "unknown field" in reply.content.decode()
    assert not Segment.objects.exists()


@pytest.mark.parametrize("who", ["support_user", "club_manager", "outsider"])
def test_other_roles_cannot_edit_segments(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("admin:campaigns_segment_add")).status_code == 403
    assert preview(client, {"all": []}).status_code in (200, 403)  # view-only roles may count


def test_the_segment_list_shows_sizes(admin_client):
    from campaigns.segments import segment_save

    CustomerFactory(city="Tehran")
    segment_save(slug="t", name="Tehran people", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})
    page = admin_client.get(reverse("admin:campaigns_segment_changelist"))
    assert page.status_code == 200 and "Tehran people" in page.content.decode()


def test_a_marketer_adds_selected_customers_to_a_static_segment(client, marketing_user):
    from campaigns.segments import segment_save

    segment, _ = segment_save(slug="vip", name="VIP", kind=Segment.Kind.STATIC)
    chosen = [CustomerFactory(), CustomerFactory()]
    CustomerFactory()
    client.force_login(marketing_user)
    url = reverse("admin:crm_customer_changelist")
    ids = [str(customer.pk) for customer in chosen]
    page = client.post(url, {"action": "add_to_static_segment", "_selected_action": ids})
    assert page.status_code == 200 and "VIP" in page.content.decode()
    reply = client.post(url, {"action": "add_to_static_segment", "_selected_action": ids, "apply": "1", "segment": segment.pk})
    assert reply.status_code == 302
    assert set(segment.members.all()) == set(chosen)


def test_support_cannot_add_customers_to_segments(client, support_user):
    from campaigns.segments import segment_save

    segment, _ = segment_save(slug="vip", name="VIP", kind=Segment.Kind.STATIC)
    customer = CustomerFactory()
    client.force_login(support_user)
    client.post(reverse("admin:crm_customer_changelist"), {
        "action": "add_to_static_segment", "_selected_action": [customer.pk], "apply": "1", "segment": segment.pk})
    assert not segment.members.exists()


@pytest.mark.parametrize(("language", "not_in"), [("en", "is none of"), ("fa", "هیچ‌یک از این‌ها نیست"),
                                                  ("ar", "ليس أيًّا من هذه القيم")])
def test_it_names_every_operator_in_words_of_the_staff_members_language(client, marketing_user, language, not_in):
    from html5lib import parse

    from core.models import StaffPreference
    from core.rule_fields import OPERATORS

    StaffPreference.objects.create(user=marketing_user, language=language)
    client.force_login(marketing_user)
    page = client.get(reverse("admin:campaigns_segment_add"))
    document = parse(page.content.decode(), namespaceHTMLElements=False)
    labels = json.loads(document.find(".//script[@id='rule-builder-operators']").text)
    assert set(labels) == set(OPERATORS) and labels["not_in"] == not_in
    assert all(label and label != code for code, label in labels.items() if code != "contains")  # a word already
