import hashlib
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import demo, roles
from crm import demo as crm_demo
from crm.models import ConsentChange, Customer, Interaction, Order, OrderLine, Product

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, tzinfo=UTC)
PERSIAN_OR_ARABIC = re.compile(r"[\u0600-\u06FF]")


@pytest.fixture(autouse=True)
def crm_data_only(override):
    """The steps other apps contribute (club members, surveys...) are tested by those apps."""
    override(demo.demo_step_registry, crm=demo.demo_step_registry["crm"])


@pytest.fixture
def seeded(db):
    return demo.seed_demo(customers=200, seed=7, now=NOW)


def fingerprint() -> str:
    rows = [
        *Customer.objects.order_by("external_ref").values_list(
            "external_ref", "public_id", "first_name", "last_name", "email", "phone", "language", "city", "country",
            "birth_date", "gender", "source", "acquired_at", "email_opt_in", "sms_opt_in",
        ),
        *Order.objects.order_by("order_number").values_list(
            "order_number", "public_id", "customer__external_ref", "placed_at", "status", "channel", "total",
            "discount", "refunded_amount",
        ),
        *OrderLine.objects.order_by("public_id").values_list("public_id", "order__order_number", "sku", "quantity", "unit_price"),
        *Interaction.objects.order_by("occurred_at", "subject").values_list(
            "customer__external_ref", "occurred_at", "subject", "status", "follow_up_on", "staff__username",
        ),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def seed_and_fingerprint(**options) -> str:
    """Seed an empty database, fingerprint the data, and roll it all back."""
    with transaction.atomic():
        assert not Customer.objects.exists()
        demo.seed_demo(**options)
        result = fingerprint()
        transaction.set_rollback(True)
    return result


def test_it_reports_the_rows_it_created(seeded):
    assert seeded["customers"] == Customer.objects.count() == 200
    assert seeded["orders"] == Order.objects.count()
    assert seeded["order_lines"] == OrderLine.objects.count()
    assert seeded["interactions"] == Interaction.objects.count()
    assert seeded["consent_changes"] == ConsentChange.objects.count()
    assert seeded["products"] == Product.objects.count() == len(crm_demo.CATALOGUE)
    # Roughly three to four orders per customer, one or two lines per order.
    assert 400 < seeded["orders"] < 1200
    assert seeded["orders"] < seeded["order_lines"] < 2 * seeded["orders"]


def test_it_gives_customers_english_persian_and_arabic_names(seeded):
    by_language = defaultdict(list)
    for language, first, last in Customer.objects.values_list("language", "first_name", "last_name"):
        by_language[language].append(f"{first} {last}")
    assert set(by_language) == {"en", "fa", "ar"}
    assert all(PERSIAN_OR_ARABIC.search(name) for name in by_language["fa"] + by_language["ar"])
    assert not any(PERSIAN_OR_ARABIC.search(name) for name in by_language["en"])


def test_its_customers_are_found_by_the_search(seeded):
    from core.text import normalize_for_search

    rows = Customer.objects.values_list("first_name", "last_name", "search_name", "search_last_name")
    for first, last, search_name, search_last_name in rows:
        assert (search_name, search_last_name) == (normalize_for_search(f"{first} {last}"), normalize_for_search(last))
    persian = Customer.objects.filter(language="fa").first()
    assert persian in Customer.objects.search(persian.first_name.replace("\u06cc", "\u064a").replace("\u06a9", "\u0643"))


def test_it_matches_city_country_and_phone_to_the_customer(seeded):
    cities = {
        (language, country): set(market_cities)
        for language, markets in crm_demo.MARKETS.items()
        for country, market_cities, _ in markets
    }
    for language, country, city, phone in Customer.objects.values_list("language", "country", "city", "phone"):
        assert city in cities[(language, country)]
        if phone is not None:
            assert phonenumbers.is_valid_number(phone)
            assert phonenumbers.region_code_for_number(phone) == country
    assert Customer.objects.filter(country="IR", phone__startswith="+989").exists()
    assert Customer.objects.exclude(phone=None).count() > 150


def test_it_gives_unique_lowercase_emails_and_references(seeded):
    emails = list(Customer.objects.exclude(email=None).values_list("email", flat=True))
    assert len(emails) > 170
    assert len(set(emails)) == len(emails)
    assert all(email == email.lower() and re.fullmatch(r"[a-z0-9._]+@example\.(com|net|org)", email) for email in emails)
    refs = sorted(Customer.objects.values_list("external_ref", flat=True))
    assert refs[0] == "C0000001" and refs[-1] == "C0000200"
    assert Customer.objects.exclude(birth_date=None).exists() and Customer.objects.filter(birth_date=None).exists()


def test_it_spreads_orders_over_two_years_with_busy_holidays(seeded):
    placed = list(Order.objects.values_list("placed_at", flat=True))
    assert min(placed) >= NOW - timedelta(days=crm_demo.HISTORY_DAYS + 1)
    assert max(placed) < NOW
    assert max(placed) - min(placed) > timedelta(days=650)

    def busy(moment: datetime) -> bool:
        return moment.month == 12 or (moment.month == 11 and moment.day >= 15) or (moment.month == 3 and moment.day >= 8)

    busy_days = sum(1 for d in range(1, crm_demo.HISTORY_DAYS + 1) if busy(NOW - timedelta(days=d)))
    busy_rate = sum(1 for moment in placed if busy(moment)) / busy_days
    other_rate = sum(1 for moment in placed if not busy(moment)) / (crm_demo.HISTORY_DAYS - busy_days)
    assert busy_rate > 1.3 * other_rate


def test_it_puts_customers_in_every_lifecycle_stage(seeded):
    stages = set(Customer.objects.with_lifecycle_stage(at=NOW).values_list("lifecycle_stage", flat=True))
    assert {"prospect", "new", "at_risk", "churned"} <= stages
    assert stages & {"repeat", "loyal"}
    assert Customer.objects.filter(orders_count=0).count() < 60  # prospects are about one in ten


def test_it_stores_derived_figures_that_match_the_orders(seeded):
    expected = defaultdict(lambda: {"orders_count": 0, "total_spent": Decimal("0"), "first": None, "last": None})
    for customer_id, status, total, refunded, placed_at in Order.objects.values_list(
        "customer_id", "status", "total", "refunded_amount", "placed_at"
    ):
        if status in ("cancelled", "refunded") or (total > 0 and refunded >= total):
            continue
        figures = expected[customer_id]
        figures["orders_count"] += 1
        figures["total_spent"] += total - refunded
        figures["first"] = min(filter(None, [figures["first"], placed_at]))
        figures["last"] = max(filter(None, [figures["last"], placed_at]))
    for customer in Customer.objects.all():
        figures = expected[customer.pk]
        assert (customer.orders_count, customer.total_spent, customer.first_order_at, customer.last_order_at) == (
            figures["orders_count"], figures["total_spent"], figures["first"], figures["last"]
        )


def test_it_makes_each_order_total_its_lines_minus_the_discount(seeded):
    orders = Order.objects.annotate(lines_value=Sum(F("lines__unit_price") * F("lines__quantity")), n=Count("lines"))
    for order in orders:
        assert 1 <= order.n <= 4
        assert order.total == order.lines_value - order.discount
        assert order.order_number.startswith("D-") and order.source == "" and order.currency == "USD"
    assert Order.objects.filter(discount__gt=0).exists()
    assert not OrderLine.objects.filter(product=None).exists()


def test_it_creates_cancelled_and_refunded_orders(seeded):
    assert Order.objects.filter(status="cancelled", fulfilled_at=None).exists()
    assert Order.objects.filter(status="refunded", refunded_amount=F("total")).exists()
    partial = Order.objects.filter(refunded_amount__gt=0, refunded_amount__lt=F("total"))
    assert partial.exists() and all(order.is_counted for order in partial)
    assert not Order.objects.filter(status="fulfilled", fulfilled_at=None).exists()
    assert Order.objects.filter(status="fulfilled").count() > 0.8 * Order.objects.count()


def test_it_logs_interactions_with_follow_ups_for_the_demo_staff(seeded):
    assert 40 <= Interaction.objects.count() <= 110  # about one for three customers
    assert Interaction.objects.open().filter(follow_up_on__lt=NOW.date()).exists()
    assert Interaction.objects.open().filter(follow_up_on=NOW.date()).exists()
    assert Interaction.objects.open().filter(follow_up_on__gt=NOW.date()).exists()
    assert not Interaction.objects.filter(status="resolved", resolved_at=None).exists()
    assert not Interaction.objects.filter(occurred_at__gte=NOW).exists()
    linked = Interaction.objects.exclude(order=None).select_related("order")
    assert linked.exists() and all(item.order.customer_id == item.customer_id for item in linked)
    assert Interaction.objects.filter(customer__language="fa", subject__regex=r"[\u0600-\u06FF]").exists()

    User = get_user_model()
    for username, role in (("support", roles.SUPPORT), ("marketing", roles.MARKETING), ("clubmanager", roles.CLUB_MANAGERS)):
        user = User.objects.get(username=username)
        assert user.is_staff and not user.has_usable_password()
        assert user.groups.filter(name=role).exists()
    assert set(Interaction.objects.values_list("staff__username", flat=True)) <= {"support", "marketing", "clubmanager"}


def test_it_records_the_consent_history_of_opted_in_customers(seeded):
    assert set(ConsentChange.objects.values_list("source", flat=True)) == {"seed"}
    latest = {}
    for customer_id, channel, granted in ConsentChange.objects.order_by("changed_at", "id").values_list(
        "customer_id", "channel", "granted"
    ):
        latest[(customer_id, channel)] = granted
    for customer_id, email_opt_in, sms_opt_in in Customer.objects.values_list("pk", "email_opt_in", "sms_opt_in"):
        assert latest.get((customer_id, "email"), False) == email_opt_in
        assert latest.get((customer_id, "sms"), False) == sms_opt_in
    assert Customer.objects.filter(email_opt_in=True).count() > 60
    assert Customer.objects.filter(tags__name="newsletter", email_opt_in=False).count() == 0


def test_it_gives_the_same_data_for_the_same_seed(db):
    first = seed_and_fingerprint(customers=120, seed=11, now=NOW)
    # Chunking does not change the data.
    assert seed_and_fingerprint(customers=120, seed=11, now=NOW, chunk_size=50) == first
    assert seed_and_fingerprint(customers=120, seed=12, now=NOW) != first


def test_it_writes_in_batches_not_row_by_row(db):
    with CaptureQueriesContext(connection) as queries:
        counts = demo.seed_demo(customers=200, seed=3, now=NOW)
    rows = counts["customers"] + counts["orders"] + counts["order_lines"] + counts["interactions"] + counts["consent_changes"]
    assert len(queries) < rows / 10


def test_it_refuses_a_database_with_customers_unless_appending(seeded):
    with pytest.raises(demo.DemoDataExists):
        demo.seed_demo(customers=10, seed=7, now=NOW)
    assert Customer.objects.count() == 200


def test_it_appends_after_the_existing_numbers(seeded):
    last_order = Order.objects.aggregate(n=Max("order_number"))["n"]
    counts = demo.seed_demo(customers=20, seed=7, now=NOW, append=True)  # same seed: still new people

    assert counts["customers"] == 20 and Customer.objects.count() == 220
    new = Customer.objects.filter(external_ref__gt="C0000200")
    assert sorted(new.values_list("external_ref", flat=True)) == [f"C{n:07d}" for n in range(201, 221)]
    assert not Order.objects.filter(customer__in=new, order_number__lte=last_order).exists()
    emails = list(Customer.objects.exclude(email=None).values_list("email", flat=True))
    assert len(set(emails)) == len(emails)
    assert Customer.objects.values("public_id").distinct().count() == 220


def test_it_runs_the_steps_other_apps_register(db, override):
    calls = []

    def seed_members(run):
        calls.append((run.created.count(), run.now))
        bar = run.progress(desc="Members", total=3)
        bar.update(3)
        bar.close()
        return {"members": run.rng.randint(1, 1) + 2}

    override(demo.demo_step_registry, {**demo.demo_step_registry, "club members": seed_members})
    counts = demo.seed_demo(customers=30, seed=1, now=NOW)

    assert demo.registered_steps() == ["crm", "club members"]
    assert calls == [(30, NOW)]
    assert counts["members"] == 3


def test_the_command_seeds_up_to_today_and_prints_a_summary(db):
    out = StringIO()
    call_command("seed_demo", "--customers", "80", "--seed", "2", stdout=out)

    output = out.getvalue()
    assert "customers: 80" in output and "orders:" in output and "interactions:" in output
    assert Customer.objects.count() == 80
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    latest = Order.objects.aggregate(latest=Max("placed_at"))["latest"]
    assert today - timedelta(days=45) < latest < today


class FakeTerminal(StringIO):
    def isatty(self):
        return True


def test_the_command_shows_a_progress_bar_only_on_a_terminal(db, capsys):
    call_command("seed_demo", "--customers", "20", stdout=StringIO())
    assert "Customers" not in capsys.readouterr().err

    call_command("seed_demo", "--customers", "20", "--append", stdout=FakeTerminal())
    assert "Customers: 100%" in capsys.readouterr().err


def test_the_command_anchors_at_the_given_date(db):
    call_command("seed_demo", "--customers", "20", "--as-of", "2025-06-01", stdout=StringIO())
    assert Order.objects.aggregate(latest=Max("placed_at"))["latest"] < NOW


def test_the_command_refuses_to_mix_demo_data_into_existing_customers(seeded):
    with pytest.raises(CommandError, match="--append"):
        call_command("seed_demo", "--customers", "5", stdout=StringIO())
    call_command("seed_demo", "--customers", "5", "--append", stdout=StringIO())
    assert Customer.objects.count() == 205


@pytest.mark.parametrize(("name", "arabic", "latin"), [
    ("رضایی", False, "rezayi"),
    ("محمدرضا", False, "mohammadreza"),
    ("علی", False, "ali"),
    ("خالد", True, "khaled"),
    ("Sarah-Jane", False, "sarahjane"),
])
def test_it_romanizes_names_for_email_addresses(name, arabic, latin):
    assert crm_demo.romanize(name, arabic=arabic) == latin


def test_birth_dates_make_adults(seeded):
    oldest, youngest = date(NOW.year - 76, 1, 1), date(NOW.year - 17, 12, 31)
    assert all(oldest < born < youngest for born in Customer.objects.exclude(birth_date=None).values_list("birth_date", flat=True))


def test_its_catalogue_has_prices_web_pages_and_products_off_sale(seeded):
    assert not Product.objects.filter(price__isnull=True).exists()
    assert not Product.objects.filter(url="").exists()
    assert set(Product.objects.filter(is_active=False).values_list("sku", flat=True)) == crm_demo.DISCONTINUED


def test_its_customers_buy_products_that_go_together_and_buy_replenishable_ones_again(seeded):
    def buyers(sku):
        return set(OrderLine.objects.filter(sku=sku, order__is_counted=True).values_list("order__customer_id", flat=True))

    ordering = set(Order.objects.filter(is_counted=True).values_list("customer_id", flat=True))
    dripper, filters = buyers("KW-V60-02"), buyers("KW-FIL-100")
    # The dripper's buyers bought filters more than three times as often as customers at large.
    assert len(dripper & filters) / len(dripper) > 3 * len(filters) / len(ordering)
    repeated = (
        OrderLine.objects.filter(product__replenishment_days__isnull=False, order__is_counted=True)
        .values("order__customer_id", "product_id").annotate(orders=Count("order", distinct=True))
        .filter(orders__gte=2)
    )
    assert repeated.count() >= 20
