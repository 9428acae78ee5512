"""seed_demo's two writers: COPY on PostgreSQL and batched INSERTs (SQLite, and PostgreSQL when COPY is
switched off here) write the same rows from the same generator, and the derived figures are right after
either: customer stats, the search names, the club balances, the sequences."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Sum

from club import services as club_services
from club.models import Coupon, CouponRedemption, Membership, PointsTransaction, TierChange
from core import copy as core_copy
from core import demo
from crm.models import ConsentChange, Customer, Interaction, Order, OrderLine
from crm.selectors import customers_with_stale_stats

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, tzinfo=UTC)
TABLES = [Customer, Order, OrderLine, Interaction, ConsentChange, Customer.tags.through, Membership, TierChange,
          PointsTransaction, Coupon, CouponRedemption]
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")


@pytest.fixture(autouse=True)
def crm_and_club_only(override):
    """The rows in bulk are crm's and the club's; the later steps (surveys, analytics) are tested by their apps."""
    override(demo.demo_step_registry, crm=demo.demo_step_registry["crm"], club=demo.demo_step_registry["club"])


def shape() -> dict:
    """What must not depend on the writer: rows per table and the figures derived from them."""
    return {
        "counts": {model._meta.db_table: model.objects.count() for model in TABLES},
        "orders": Order.objects.aggregate(total=Sum("total"), refunded=Sum("refunded_amount"), first=Min("placed_at"),
                                          last=Max("placed_at")),
        "statuses": dict(Order.objects.values_list("status").annotate(n=Count("pk")).order_by("status")),
        "languages": dict(Customer.objects.values_list("language").annotate(n=Count("pk")).order_by("language")),
        "cities": dict(Customer.objects.values_list("city").annotate(n=Count("pk")).order_by("city")),
        "spent": Customer.objects.aggregate(total=Sum("total_spent"), orders=Sum("orders_count")),
        "points": Membership.objects.aggregate(balance=Sum("points_balance"), pending=Sum("pending_points")),
        "tiers": dict(Membership.objects.values_list("tier__name").annotate(n=Count("pk")).order_by("tier__name")),
        "names": sorted(Customer.objects.values_list("external_ref", "search_name", "search_last_name", "phone",
                                                     "email")),
    }


def assert_derived_figures_are_right() -> None:
    assert not customers_with_stale_stats().exists()  # stats equal what the rebuild computes
    assert list(club_services.points_verify_balances()) == []  # balances equal the ledger sums
    persian = Customer.objects.filter(language="fa").first()
    typed = persian.first_name.replace("\u06cc", "\u064a").replace("\u06a9", "\u0643")  # an Arabic keyboard
    assert persian in Customer.objects.search(typed)


def seed_and_shape(*, copy: bool, monkeypatch) -> dict:
    """Seed an empty database with one writer, check and describe the data, and roll it all back."""
    monkeypatch.setattr(core_copy, "uses_copy", lambda: copy)
    try:
        with transaction.atomic():
            demo.seed_demo(customers=300, seed=5, now=NOW)
            assert_derived_figures_are_right()
            described = shape()
            transaction.set_rollback(True)
        return described
    finally:
        monkeypatch.undo()


@postgres_only
def test_the_copy_path_writes_what_the_insert_path_writes(monkeypatch):
    with_copy = seed_and_shape(copy=True, monkeypatch=monkeypatch)
    with_inserts = seed_and_shape(copy=False, monkeypatch=monkeypatch)

    assert with_copy == with_inserts
    counts = with_copy["counts"]
    assert counts["crm_customer"] == 300
    assert 2 * counts["crm_customer"] < counts["crm_order"] < 6 * counts["crm_customer"]
    assert counts["crm_order"] < counts["crm_orderline"] < 2 * counts["crm_order"]
    assert 0.45 * counts["crm_customer"] < counts["club_membership"] < 0.75 * counts["crm_customer"]
    assert counts["club_pointstransaction"] > counts["club_membership"]


def drawn_rows() -> dict:
    """The crm rows as drawn, without their ids (two seeds in one database take different ids)."""
    return {
        "customers": list(Customer.objects.order_by("external_ref").values_list(
            "public_id", "external_ref", "first_name", "last_name", "email", "phone", "birth_date", "acquired_at")),
        "orders": list(Order.objects.order_by("order_number").values_list(
            "public_id", "customer__external_ref", "order_number", "placed_at", "status", "total", "refunded_amount")),
        "lines": list(OrderLine.objects.order_by("public_id").values_list("public_id", "order__order_number", "sku",
                                                                            "quantity", "unit_price")),
        "interactions": list(Interaction.objects.order_by("public_id").values_list(
            "public_id", "customer__external_ref", "subject", "occurred_at", "order__order_number")),
    }


@postgres_only
def test_rows_drawn_in_a_producer_process_are_the_rows_drawn_here(override, monkeypatch):
    import crm.demo

    override(demo.demo_step_registry, crm=demo.demo_step_registry["crm"])
    seeded = []
    for aside in (True, False):
        if not aside:  # the producer's work done in this process, item by item
            monkeypatch.setattr(crm.demo, "produced_aside", lambda produce: iter(produce()))
        with transaction.atomic():
            demo.seed_demo(customers=120, seed=9, now=NOW, chunk_size=50)  # three chunks
            seeded.append(drawn_rows())
            transaction.set_rollback(True)

    assert seeded[0] == seeded[1]
    assert len(seeded[0]["customers"]) == 120 and len(seeded[0]["orders"]) > 120


@postgres_only
def test_the_sequences_are_right_after_a_copy_seed():
    demo.seed_demo(customers=40, seed=2, now=NOW)
    highest = Customer.objects.aggregate(n=Max("pk"))["n"]
    customer = Customer.objects.create(first_name="Sara", email="after-the-seed@example.com")
    order = Order.objects.create(customer=customer, order_number="X-1", placed_at=NOW, total=10)

    assert customer.pk > highest
    assert order.pk > Order.objects.exclude(pk=order.pk).aggregate(n=Max("pk"))["n"]


def test_a_small_seed_works_on_any_database():
    counts = demo.seed_demo(customers=60, seed=3, now=NOW)

    assert counts["customers"] == Customer.objects.count() == 60
    assert counts["orders"] == Order.objects.count() > 60
    assert counts["club_members"] == Membership.objects.count() > 20
    assert_derived_figures_are_right()
    assert Customer.objects.filter(created_at=F("acquired_at")).count() == 60  # they joined when acquired


@pytest.mark.parametrize("value, text", [
    ("plain words, an e-mail@example.com", "plain words, an e-mail@example.com"),
    ("a\ttab, a\nnewline, a\rreturn", "a\\ttab, a\\nnewline, a\\rreturn"),
    ("back\\slash", "back\\\\slash"),
    ("می\u200cخواهم", "می\u200cخواهم"),  # a zero-width non-joiner is not printable, and needs no escape
    ("", ""),
])
def test_copy_text_escapes_what_copy_would_misread_and_nothing_else(value, text):
    assert core_copy.copy_line([value, None, True, 7, core_copy.Cents(-1205)]) == f"{text}\t\\N\tt\t7\t-12.05"
