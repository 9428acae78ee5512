"""Segments are created and changed by two services: a change updates the row in place (a slug
rename keeps campaigns attached), the rules are compiled once per save, and each save is audited."""

import json
from io import StringIO
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from campaigns import rules as segment_rules
from campaigns.models import Segment
from campaigns.segments import segment_create, segment_save, segment_update
from tests.campaigns.helpers import make_campaign
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TEHRAN = {"all": [{"field": "city", "op": "eq", "value": "Tehran"}]}
SHIRAZ = {"all": [{"field": "city", "op": "eq", "value": "Shiraz"}]}


@pytest.fixture
def compiles():
    """Counts every compile of segment rules (validation and counting both go through compile_rules)."""
    with mock.patch.object(segment_rules, "compile_rules", wraps=segment_rules.compile_rules) as spy:
        yield spy


def test_renaming_the_slug_in_the_admin_keeps_one_segment_and_its_campaigns(client, marketing_user, compiles):
    CustomerFactory(city="Shiraz")
    CustomerFactory(city="Tehran", first_name="Arash")
    segment = segment_create(slug="tehran", name="Tehran", rules=TEHRAN)
    campaign = make_campaign(segments=[segment])
    excluding = make_campaign(segments=[segment_create(slug="all", name="All", rules={"all": []})], excluded=[segment],
                              name="Others")
    client.force_login(marketing_user)
    url = reverse("admin:campaigns_segment_change", args=[segment.pk])
    page = client.get(url)
    assert "Arash" in page.content.decode()  # the sample of the segment's customers
    form = page.context["adminform"].form
    assert set(form.fields) == {"name", "slug", "description", "kind", "rules"}  # the names the browser posts
    compiles.reset_mock()

    reply = client.post(url, {"name": "Shiraz", "slug": "shiraz", "description": "moved", "kind": "dynamic",
                              "rules": json.dumps(SHIRAZ), "_save": "Save"})

    assert reply.status_code == 302, reply.context["adminform"].form.errors if reply.context else ""
    assert compiles.call_count == 1  # the form's validation; the size refresh reuses it
    assert list(Segment.objects.exclude(slug="all").values_list("pk", "slug", "name")) == [(segment.pk, "shiraz", "Shiraz")]
    assert list(campaign.segments.all()) == [Segment.objects.get(slug="shiraz")]
    assert list(excluding.excluded_segments.values_list("slug", flat=True)) == ["shiraz"]
    assert Segment.objects.get(pk=segment.pk).size == 1


def test_adding_a_segment_in_the_admin_compiles_once(client, marketing_user, compiles):
    client.force_login(marketing_user)
    reply = client.post(reverse("admin:campaigns_segment_add"), {
        "name": "Tehran", "slug": "tehran", "description": "", "kind": "dynamic", "rules": json.dumps(TEHRAN)})
    assert reply.status_code == 302 and compiles.call_count == 1
    assert Segment.objects.get(slug="tehran").created_by == marketing_user


@pytest.mark.parametrize("write", ["create", "update"])
def test_a_service_save_compiles_once(compiles, write):
    CustomerFactory(city="Tehran")
    if write == "create":
        segment = segment_create(slug="t", name="T", rules=TEHRAN)
    else:
        segment = segment_create(slug="t", name="T", kind=Segment.Kind.STATIC)
        compiles.reset_mock()
        segment = segment_update(segment=segment, kind=Segment.Kind.DYNAMIC, rules=TEHRAN)
    assert compiles.call_count == 1 and segment.size == 1


def test_a_compile_of_other_rules_is_not_reused(compiles):
    stale = segment_rules.compile_rules(SHIRAZ)
    CustomerFactory(city="Tehran")
    compiles.reset_mock()
    segment = segment_create(slug="t", name="T", rules=TEHRAN, compiled=stale)
    assert compiles.call_count == 1 and segment.size == 1


def test_create_refuses_a_taken_slug_and_update_refuses_another_segments_slug():
    first = segment_create(slug="first", name="First", rules=TEHRAN)
    segment_create(slug="second", name="Second", rules=TEHRAN)
    with pytest.raises(ValidationError) as error:
        segment_create(slug="first", name="Again", rules=TEHRAN)
    assert "slug" in error.value.message_dict
    with pytest.raises(ValidationError):
        segment_update(segment=first, slug="second")
    assert Segment.objects.get(pk=first.pk).slug == "first"


def test_bad_rules_write_nothing():
    with pytest.raises(ValidationError):
        segment_create(slug="bad", name="Bad", rules={"all": [{"field": "shoe", "op": "eq", "value": 1}]})
    assert not Segment.objects.exists()
    segment = segment_create(slug="ok", name="OK", rules=TEHRAN)
    with pytest.raises(ValidationError):
        segment_update(segment=segment, rules={"any": "nope"})
    assert Segment.objects.get(pk=segment.pk).rules == TEHRAN


def test_each_save_is_audited_with_who_did_it(admin_user, marketing_user):
    segment = segment_create(slug="t", name="T", rules=TEHRAN, by=marketing_user)
    segment_update(segment=segment, slug="tehran", name="Tehran", by=admin_user)
    rows = list(segment.history.order_by("history_date", "history_id").values_list("history_type", "slug", "history_user"))
    assert rows == [("+", "t", marketing_user.pk), ("~", "tehran", admin_user.pk)]


def test_a_rename_in_the_admin_is_audited_with_the_staff_user(client, marketing_user):
    segment = segment_create(slug="t", name="T", rules=TEHRAN)
    client.force_login(marketing_user)
    client.post(reverse("admin:campaigns_segment_change", args=[segment.pk]),
                {"name": "T", "slug": "t2", "description": "", "kind": "dynamic", "rules": json.dumps(TEHRAN)})
    latest = segment.history.latest("history_date")
    assert (latest.slug, latest.history_user) == ("t2", marketing_user)


def test_segment_save_updates_the_segment_that_has_the_slug():
    segment, created = segment_save(slug="t", name="T", rules=TEHRAN)
    again, created_again = segment_save(slug="t", name="Tehran", rules=SHIRAZ)
    assert (created, created_again) == (True, False) and again.pk == segment.pk
    assert Segment.objects.get().rules == SHIRAZ


def test_the_command_creates_then_updates_by_slug(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(TEHRAN))
    out = StringIO()
    call_command("segment_create", "tehran", "--name", "Tehran", "--rules", str(rules), stdout=out)
    rules.write_text(json.dumps(SHIRAZ))
    call_command("segment_create", "tehran", "--name", "Tehran people", "--rules", str(rules), stdout=out)
    assert out.getvalue().splitlines()[0].startswith("Created segment tehran")
    assert out.getvalue().splitlines()[1].startswith("Updated segment tehran")
    assert list(Segment.objects.values_list("name", "rules")) == [("Tehran people", SHIRAZ)]
