"""The materialized membership of segments (campaigns.SegmentCustomer): written set-based on every save,
by the static list's add/remove/import, and by the nightly campaigns.segments_refresh job; rules that
depend on "now" are evaluated at refresh time, which is recorded on the segment."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics import selectors
from campaigns.models import Segment, SegmentCustomer
from campaigns.segments import (
    segment_add_customers, segment_create, segment_customers, segment_import_csv, segment_members,
    segment_members_refresh, segment_remove_customers, segment_save, segment_update, segments_refresh,
)
from core.jobs import job_registry
from crm.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TEHRAN = {"all": [{"field": "city", "op": "eq", "value": "Tehran"}]}
SHIRAZ = {"all": [{"field": "city", "op": "eq", "value": "Shiraz"}]}
LAPSED = {"all": [{"field": "days_since_last_order", "op": "gte", "value": 30}]}


def members(segment: Segment) -> set[int]:
    return set(SegmentCustomer.objects.filter(segment=segment).values_list("customer_id", flat=True))


def test_it_materializes_a_dynamic_segment_when_it_is_created():
    tehran = {CustomerFactory(city="Tehran").pk, CustomerFactory(city="tehran").pk}
    CustomerFactory(city="Shiraz")
    segment = segment_create(slug="tehran", name="Tehran", rules=TEHRAN)
    assert members(segment) == tehran == set(segment_customers(segment).values_list("pk", flat=True))
    segment.refresh_from_db()
    assert segment.size == 2 and segment.members_computed_at is not None
    assert segment.size_counted_at == segment.members_computed_at


def test_it_rewrites_the_members_when_the_rules_change_on_save():
    tehran, shiraz = CustomerFactory(city="Tehran"), CustomerFactory(city="Shiraz")
    segment = segment_create(slug="city", name="City", rules=TEHRAN)
    segment_update(segment=segment, rules=SHIRAZ)
    assert members(segment) == {shiraz.pk}
    segment_save(slug="city", name="City", rules={"any": [*TEHRAN["all"], *SHIRAZ["all"]]})
    assert members(segment) == {tehran.pk, shiraz.pk}
    assert Segment.objects.get(pk=segment.pk).size == 2


def test_a_refresh_keeps_the_rows_that_stay_and_only_adds_and_removes_the_difference():
    stays, leaves = CustomerFactory(city="Tehran"), CustomerFactory(city="Tehran")
    segment = segment_create(slug="tehran", name="Tehran", rules=TEHRAN)
    Customer.objects.filter(pk=leaves.pk).update(city="Shiraz")
    joins = CustomerFactory(city="Tehran")
    with CaptureQueriesContext(connection) as queries:
        assert segment_members_refresh(segment=segment) == 2
    assert members(segment) == {stays.pk, joins.pk}
    writes = [query["sql"] for query in queries if query["sql"].startswith(("DELETE", "INSERT"))]
    assert len(writes) == 2  # one DELETE and one INSERT ... SELECT, whatever the number of customers


def test_the_members_stay_as_computed_until_the_next_refresh_and_the_reports_read_them():
    first = CustomerFactory(city="Tehran")
    segment = segment_create(slug="tehran", name="Tehran", rules=TEHRAN)
    later = CustomerFactory(city="Tehran")
    assert set(segment_members(segment).values_list("pk", flat=True)) == {first.pk}
    assert set(selectors.customers_for("tehran")[1].values_list("pk", flat=True)) == {first.pk}
    assert segment_customers(segment).filter(pk=later.pk).exists()  # sending evaluates the rules live
    segments_refresh()
    assert set(selectors.customers_for("tehran")[1].values_list("pk", flat=True)) == {first.pk, later.pk}


def test_a_segment_never_materialized_is_read_live():
    customer = CustomerFactory(city="Tehran")
    segment = segment_create(slug="tehran", name="Tehran", rules=TEHRAN)
    Segment.objects.filter(pk=segment.pk).update(members_computed_at=None)
    SegmentCustomer.objects.filter(segment=segment).delete()
    segment.refresh_from_db()
    assert list(segment_members(segment).values_list("pk", flat=True)) == [customer.pk]


def test_rules_that_depend_on_now_are_evaluated_when_the_job_refreshes(place_order):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        customer = CustomerFactory()
        place_order(customer, days_ago=20)
        segment = segment_create(slug="lapsed", name="Lapsed", rules=LAPSED)
        assert members(segment) == set()
    with time_machine.travel(start + timedelta(days=15), tick=False):
        call_command("run_job", "campaigns.segments_refresh", stdout=StringIO())
    segment.refresh_from_db()
    assert members(segment) == {customer.pk}
    assert segment.members_computed_at == start + timedelta(days=15)
    assert segment.size == 1


def test_the_refresh_job_is_registered_before_the_snapshots():
    job = job_registry["campaigns.segments_refresh"]
    snapshots = job_registry["campaigns.segment_snapshots"]
    assert (int(job.schedule["hour"]), int(job.schedule["minute"])) < (int(snapshots.schedule["hour"]),
                                                                       int(snapshots.schedule["minute"]))


def test_the_job_refreshes_every_segment_static_and_dynamic():
    tehran = segment_create(slug="tehran", name="Tehran", rules=TEHRAN)
    static = segment_create(slug="list", name="List", kind=Segment.Kind.STATIC)
    customer = CustomerFactory(city="Tehran")
    static.memberships.create(customer=customer)  # written behind the services' back
    assert segments_refresh() == {"refreshed": 2, "failed": []}
    assert members(tehran) == members(static) == {customer.pk}


def test_static_segments_follow_add_remove_and_import():
    first = CustomerFactory(email="one@example.com")
    second = CustomerFactory(email="two@example.com", external_ref="R-2")
    segment = segment_create(slug="list", name="List", kind=Segment.Kind.STATIC)
    segment_add_customers(segment=segment, customers=Customer.objects.filter(pk=first.pk))
    assert members(segment) == {first.pk}
    segment_import_csv(segment=segment, file=SimpleUploadedFile("list.csv", b"external_ref\nR-2\n"))
    assert members(segment) == {first.pk, second.pk}
    segment_remove_customers(segment=segment, customers=Customer.objects.filter(pk=first.pk))
    assert members(segment) == {second.pk}
    assert Segment.objects.get(pk=segment.pk).size == 1


def test_deleting_a_customer_or_a_segment_deletes_their_rows():
    kept, gone = CustomerFactory(city="Tehran"), CustomerFactory(city="Tehran")
    segment = segment_create(slug="tehran", name="Tehran", rules=TEHRAN)
    gone.delete()
    assert members(segment) == {kept.pk}
    segment.delete()
    assert not SegmentCustomer.objects.exists()


def test_the_admin_page_shows_when_the_members_were_computed(client, marketing_user):
    segment = segment_create(slug="tehran", name="Tehran", rules=TEHRAN)
    client.force_login(marketing_user)
    page = client.get(reverse("admin:campaigns_segment_change", args=[segment.pk]))
    assert page.status_code == 200
    assert "members computed at" in page.content.decode().lower()
    listing = client.get(reverse("admin:campaigns_segment_changelist"))
    assert "members computed at" in listing.content.decode().lower()


def test_a_refresh_uses_the_rules_saved_now_not_those_of_a_stale_copy():
    shiraz = CustomerFactory(city="Shiraz")
    CustomerFactory(city="Tehran")
    segment = segment_create(slug="city", name="City", rules=TEHRAN)
    stale = Segment.objects.get(pk=segment.pk)  # what a long job loaded before the edit
    segment_update(segment=segment, rules=SHIRAZ)
    segment_members_refresh(segment=stale)
    assert members(segment) == {shiraz.pk}
