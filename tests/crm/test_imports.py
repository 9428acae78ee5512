"""The CSV imports of customers and orders (crm.importing), their commands and admin page.

A file is imported all or nothing: one bad row and nothing is written, and every bad row
is reported as `line N: reason`, the header being line 1."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from crm import services, signals
from crm.admin.imports import CsvImportAdminMixin
from crm.importing import ImportFailed, import_customers, import_orders
from crm.models import ConsentChange, Customer, Order, OrderLine, Product, Tag
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
ORDER_HEADER = "order_number,customer_ref,placed_at,status,channel,currency,total,sku,product_name,category,quantity,unit_price"
CUSTOMER_HEADER = (
    "external_ref,first_name,last_name,email,phone,birth_date,city,country,source,acquired_at,email_opt_in,"
    "sms_opt_in,tags"
)


def csv_file(*lines: str, bom: bool = False) -> io.BytesIO:
    text = "\n".join(lines) + "\n"
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + text.encode())


def errors_of(importer, *lines: str) -> list[str]:
    with pytest.raises(ImportFailed) as failure:
        importer(csv_file(*lines))
    return failure.value.errors


def snapshot() -> dict:
    """Everything an import could write, to prove that a failed one wrote nothing."""
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "tags": list(Customer.tags.through.objects.order_by("pk").values()),
        "tag_names": list(Tag.objects.order_by("pk").values_list("name", flat=True)),
        "consents": list(ConsentChange.objects.order_by("pk").values()),
        "orders": list(Order.objects.order_by("pk").values()),
        "lines": list(OrderLine.objects.order_by("pk").values()),
        "products": list(Product.objects.order_by("pk").values()),
    }


@pytest.fixture
def sara(db):
    return CustomerFactory(
        external_ref="POS-1", first_name="Sara", last_name="Ahmadi", email="sara@example.com", phone="+989121234567",
        city="Tehran",
    )


@pytest.fixture
def omid(db):
    return CustomerFactory(external_ref=None, first_name="Omid", email="omid@example.com", phone="+989351112233")


# Customers: upsert ----------------------------------------------------------------------


def test_it_creates_customers_from_every_column(settings):
    settings.TIME_ZONE = "Asia/Tehran"
    result = import_customers(csv_file(
        CUSTOMER_HEADER,
        "POS-9,Mina,Karimi,Mina@Example.COM,+98 912 765 4321,1990-05-01,Shiraz,ir,web,2024-02-03,yes,0,vip|coffee",
    ))

    assert (result.created, result.updated, result.skipped, result.rows) == (1, 0, 0, 1)
    mina = Customer.objects.get(external_ref="POS-9")
    assert (mina.first_name, mina.last_name, mina.email, str(mina.phone)) == (
        "Mina", "Karimi", "mina@example.com", "+989127654321")
    assert (mina.birth_date, mina.city, mina.country, mina.source) == (date(1990, 5, 1), "Shiraz", "IR", "web")
    # A date means midnight in TIME_ZONE.
    assert mina.acquired_at == datetime(2024, 2, 3, tzinfo=ZoneInfo("Asia/Tehran"))
    assert sorted(mina.tags.values_list("name", flat=True)) == ["coffee", "vip"]
    assert (mina.email_opt_in, mina.sms_opt_in) == (True, False)
    # The consent the file states is recorded, a "no" included, with its source.
    assert sorted(mina.consent_changes.values_list("channel", "granted", "source")) == [
        ("email", True, "import"), ("sms", False, "import")]


def test_it_updates_the_customer_with_the_same_external_ref(sara):
    result = import_customers(csv_file("external_ref,city", "POS-1,Isfahan"))

    assert (result.created, result.updated) == (0, 1)
    sara.refresh_from_db()
    assert sara.city == "Isfahan"
    assert Customer.objects.count() == 1


def test_it_updates_the_customer_with_the_same_email_whatever_its_case(sara):
    import_customers(csv_file("email,first_name", "SARA@example.com,Sarah"))

    sara.refresh_from_db()
    assert sara.first_name == "Sarah"
    assert Customer.objects.count() == 1


def test_it_updates_the_customer_with_the_same_phone_however_it_is_written(omid):
    import_customers(csv_file("phone,last_name", "+98 (935) 111-2233,Rahimi"))

    omid.refresh_from_db()
    assert omid.last_name == "Rahimi"
    assert Customer.objects.count() == 1


def test_it_prefers_the_external_ref_then_the_email_then_the_phone(sara, omid):
    # Sara's ref and Omid's phone: the ref wins.
    import_customers(csv_file("external_ref,phone,city", "POS-1,+989351112233,Karaj"))

    sara.refresh_from_db()
    omid.refresh_from_db()
    assert sara.city == "Karaj"
    assert str(sara.phone) == "+989351112233"
    assert omid.city == "Tehran"


def test_it_sets_the_external_ref_of_a_customer_found_by_email(omid):
    import_customers(csv_file("external_ref,email", "POS-7,omid@example.com"))

    omid.refresh_from_db()
    assert omid.external_ref == "POS-7"


def test_it_creates_a_customer_when_the_phone_belongs_to_someone_with_another_ref(sara):
    # Families share phones: a new reference with Sara's phone is a new person.
    result = import_customers(csv_file("external_ref,phone,first_name", "POS-2,+989121234567,Reza"))

    assert result.created == 1
    assert Customer.objects.filter(phone="+989121234567").count() == 2


def test_it_writes_only_the_columns_in_the_file_and_leaves_empty_cells_alone(sara):
    import_customers(csv_file("external_ref,first_name,city", "POS-1,Sari,"))

    sara.refresh_from_db()
    assert (sara.first_name, sara.last_name, sara.city, sara.email) == ("Sari", "Ahmadi", "Tehran", "sara@example.com")


def test_it_adds_tags_and_keeps_the_ones_staff_gave(sara):
    sara.tags.add(Tag.objects.create(name="vip"))

    import_customers(csv_file("external_ref,tags", "POS-1, coffee | tea ||coffee"))

    assert sorted(sara.tags.values_list("name", flat=True)) == ["coffee", "tea", "vip"]


def test_it_records_a_consent_change_only_when_the_consent_changes(sara):
    services.consent_set(customer=sara, channel="email", granted=True, source="admin")

    result = import_customers(csv_file("external_ref,email_opt_in,sms_opt_in", "POS-1,true,no"))

    sara.refresh_from_db()
    assert (sara.email_opt_in, sara.sms_opt_in) == (True, False)
    # email: already granted, nothing new; sms: never stated, so the first statement is recorded.
    assert list(sara.consent_changes.order_by("pk").values_list("channel", "granted", "source")) == [
        ("email", True, "admin"), ("sms", False, "import")]
    assert result.details["consent_changes"] == 1

    import_customers(csv_file("external_ref,email_opt_in", "POS-1,0"))

    sara.refresh_from_db()
    assert sara.email_opt_in is False
    assert sara.consent_changes.filter(channel="email", granted=False, source="import").count() == 1


def test_it_records_who_imported_the_consent(sara, admin_user):
    import_customers(csv_file("external_ref,sms_opt_in", "POS-1,1"), by=admin_user)

    assert sara.consent_changes.get().changed_by == admin_user


def test_importing_the_same_file_twice_changes_nothing_the_second_time(sara):
    lines = (CUSTOMER_HEADER, "POS-1,Sara,Ahmadi,,,,,,,,yes,no,vip", "POS-2,Reza,,reza@example.com,,,,,,,1,,vip")
    import_customers(csv_file(*lines))
    before = snapshot()

    result = import_customers(csv_file(*lines))

    assert (result.created, result.updated, result.skipped) == (0, 0, 2)
    after = snapshot()
    assert after == before


def test_it_sends_customer_created_for_each_new_customer(sara):
    received = []

    def receiver(sender, customer, **kwargs):
        received.append(customer.external_ref)

    signals.customer_created.connect(receiver)
    try:
        import_customers(csv_file("external_ref", "POS-1", "POS-2", "POS-3"))
    finally:
        signals.customer_created.disconnect(receiver)
    assert received == ["POS-2", "POS-3"]


def test_it_works_across_batches(settings, sara):
    settings.CRM_IMPORT_BATCH_SIZE = 2
    result = import_customers(csv_file(
        "external_ref,email,city", "POS-1,,Rasht", "A-1,a1@example.com,", "A-2,a2@example.com,", "A-3,,", "A-4,,",
    ))

    assert (result.rows, result.created, result.updated) == (5, 4, 1)
    assert Customer.objects.count() == 5


def test_rows_match_the_customers_as_they_were_before_the_import_whatever_the_batch_size(settings, omid):
    # Line 2 moves Omid to a new phone; line 3 names his old phone: that is still Omid,
    # who cannot be updated twice, in the same batch or in the next one.
    lines = ("email,phone", "omid@example.com,+989350000000", ",+989351112233")
    for batch_size in (1, 1000):
        settings.CRM_IMPORT_BATCH_SIZE = batch_size
        assert errors_of(import_customers, *lines) == ["line 3: same customer as line 2"]


# Customers: bad files ---------------------------------------------------------------------


def test_it_reports_each_bad_customer_row_with_its_line_and_writes_nothing(settings, sara):
    settings.CRM_IMPORT_BATCH_SIZE = 2  # good rows before the bad ones were written, then rolled back
    before = snapshot()

    errors = errors_of(
        import_customers,
        CUSTOMER_HEADER,
        "NEW-1,Good,Row,good@example.com,,,,,,,yes,,vip",
        "POS-1,Sara,,,,,,,,,,,",
        "NEW-2,,,not-an-email,12,1990-02-30,,IRN,,yesterday,maybe,2,",
        ",,,,,,,,,,,,",
        "NEW-3,,,,,2999-01-01,,,,,,,",
        "NEW-4,,,,,,,,,,,," + "x" * 51,
        "NEW-5,," + "x" * 101 + ",,,,,,,,,,",
        "NEW-6,too,few",
    )

    assert errors == [
        'line 4: email "not-an-email" is not a valid email address; phone "12" is not a valid phone number; '
        'birth_date "1990-02-30" is not an ISO 8601 date (YYYY-MM-DD); country "IRN" is not a 2-letter code; '
        'acquired_at "yesterday" is not an ISO 8601 date or datetime; '
        'email_opt_in "maybe" is not one of 1, 0, true, false, yes, no; '
        'sms_opt_in "2" is not one of 1, 0, true, false, yes, no',
        "line 5: give an external_ref, an email or a phone",
        'line 6: birth_date "2999-01-01" is in the future',
        f'line 7: tag "{"x" * 51}" is longer than 50 characters',
        "line 8: last_name is longer than 100 characters",
        "line 9: expected 13 values, found 3",
    ]
    assert snapshot() == before


def test_it_reports_keys_that_appear_twice_in_the_file():
    errors = errors_of(
        import_customers,
        "external_ref,email,phone",
        "A-1,a@example.com,+989121111111",
        "A-1,b@example.com,",
        ",A@example.com,",
        ",,+98 912 111 1111",  # A-1's phone, but A-1 is matched by its ref: a phone only row is A-1 again
        ",,+989122222222",
        ",,+989122222222",
        "A-2,,+989122222222",  # a phone shared with someone who has a ref is fine
    )

    assert errors == [
        'line 3: external_ref "A-1" is also on line 2',
        'line 4: email "a@example.com" is also on line 2',
        'line 7: phone "+989122222222" is also on line 6',
    ]


def test_it_refuses_an_email_that_belongs_to_another_customer(sara, omid):
    errors = errors_of(import_customers, "external_ref,email", "POS-1,omid@example.com", "NEW-1,sara@example.com")

    assert errors == [
        'line 2: email "omid@example.com" belongs to another customer',
        'line 3: email "sara@example.com" belongs to the customer with external_ref "POS-1"',
    ]


def test_it_refuses_a_phone_that_matches_several_customers(sara):
    CustomerFactory(email="twin@example.com", phone=sara.phone)

    errors = errors_of(import_customers, "phone,city", "+989121234567,Rasht")

    assert errors == ['line 2: phone "+989121234567" matches several customers; add an external_ref or an email']


def test_it_refuses_to_update_one_customer_from_two_rows(sara):
    errors = errors_of(import_customers, "external_ref,email,city", "POS-1,,A", ",sara@example.com,B")

    assert errors == ["line 3: same customer as line 2"]


@pytest.mark.parametrize(("header", "error"), [
    ("external_ref,nickname,Email", 'line 1: unknown column "nickname"'),
    ("email,EMAIL", 'line 1: column "email" appears twice'),
    ("first_name,city", "line 1: the file needs an external_ref, email or phone column"),
])
def test_it_checks_the_customer_header(header, error):
    assert errors_of(import_customers, header, "x,y") == [error]


# Orders: import ----------------------------------------------------------------------------


@pytest.fixture
def shoppers(sara, omid):
    CustomerFactory(external_ref=None, email="phone.only@example.com", phone="+442079460000")
    return sara, omid


def test_it_imports_orders_with_their_lines_grouped_wherever_they_are_in_the_file(shoppers):
    sara, omid = shoppers
    result = import_orders(csv_file(
        ORDER_HEADER,
        "W-1,POS-1,2024-03-01T10:00:00+00:00,,online,eur,30.50,BEAN-1,Beans,coffee,2,10.25",
        "W-2,OMID@example.com,2024-03-02,paid,,,12,MUG-1,Mug,,1,12",
        "W-1,POS-1,2024-03-01T10:00:00Z,,online,EUR,30.5,CUP-1,,,,10",
    ))

    assert (result.rows, result.created, result.skipped) == (3, 2, 0)
    assert result.details == {"products_created": 3, "lines_created": 3}
    w1 = Order.objects.get(order_number="W-1")
    assert (w1.customer, w1.placed_at, w1.status, w1.channel, w1.currency, w1.total) == (
        sara, datetime(2024, 3, 1, 10, tzinfo=UTC), "fulfilled", "online", "EUR", Decimal("30.50"))
    # Like order_create: a fulfilled order was fulfilled when placed.
    assert w1.fulfilled_at == w1.placed_at
    assert [(line.sku, line.product_name, line.category, line.quantity, line.unit_price) for line in w1.lines.all()] == [
        ("BEAN-1", "Beans", "coffee", 2, Decimal("10.25")), ("CUP-1", "", "", 1, Decimal("10.00"))]
    w2 = Order.objects.get(order_number="W-2")
    assert (w2.customer, w2.status, w2.channel, w2.currency, w2.fulfilled_at) == (omid, "paid", "store", "USD", None)
    assert w1.public_id != w2.public_id


def test_it_creates_the_products_it_does_not_know_and_uses_the_ones_it_does(sara):
    known = ProductFactory(sku="BEAN-1", name="Beans", category="coffee")

    import_orders(csv_file(
        ORDER_HEADER,
        "W-1,POS-1,2024-03-01,,,,25,BEAN-1,,,1,5",
        "W-1,POS-1,2024-03-01,,,,25,TEA-1,Green tea,tea,1,10",
        "W-1,POS-1,2024-03-01,,,,25,TEA-2,,,1,10",
    ))

    assert list(Product.objects.order_by("sku").values_list("sku", "name", "category")) == [
        ("BEAN-1", "Beans", "coffee"), ("TEA-1", "Green tea", "tea"), ("TEA-2", "TEA-2", "")]
    lines = list(OrderLine.objects.order_by("pk"))
    assert [line.product.sku for line in lines] == ["BEAN-1", "TEA-1", "TEA-2"]
    # A line without a category takes its product's, as order_create does.
    assert lines[0].product == known and lines[0].category == "coffee"


def test_it_matches_customer_ref_by_external_ref_then_email_then_phone(shoppers):
    sara, omid = shoppers
    import_orders(csv_file(
        "order_number,customer_ref,placed_at,total",
        "A,POS-1,2024-01-01,1", "B,Omid@Example.com,2024-01-01,1", "C,+44 20 7946 0000,2024-01-01,1",
    ))

    assert dict(Order.objects.values_list("order_number", "customer__email")) == {
        "A": "sara@example.com", "B": "omid@example.com", "C": "phone.only@example.com"}


def test_an_order_without_line_columns_has_no_lines(sara):
    result = import_orders(csv_file("order_number,customer_ref,placed_at,total", "A,POS-1,2024-01-01,9.99"))

    assert result.created == 1 and result.details["lines_created"] == 0
    assert OrderLine.objects.count() == 0


def test_a_date_means_midnight_in_the_time_zone(settings, sara):
    settings.TIME_ZONE = "Asia/Tehran"
    import_orders(csv_file(
        "order_number,customer_ref,placed_at,total", "A,POS-1,2024-01-05,1", "B,POS-1,2024-01-05T09:30,1",
    ))

    tehran = ZoneInfo("Asia/Tehran")
    assert Order.objects.get(order_number="A").placed_at == datetime(2024, 1, 5, tzinfo=tehran)
    assert Order.objects.get(order_number="B").placed_at == datetime(2024, 1, 5, 9, 30, tzinfo=tehran)


def test_it_keeps_the_customers_figures_right(sara, omid, place_order):
    earlier = place_order(sara, at=datetime(2023, 1, 1, tzinfo=UTC), total="100.00")

    import_orders(csv_file(
        "order_number,customer_ref,placed_at,status,total",
        "A,POS-1,2024-01-01,,20", "B,POS-1,2024-02-01,cancelled,1000", "C,POS-1,2024-03-01,refunded,500",
        "D,omid@example.com,2024-04-01,cancelled,7",
    ))

    refunded = Order.objects.get(order_number="C")
    assert (refunded.refunded_amount, refunded.net_total, refunded.is_counted) == (Decimal("500"), Decimal("0"), False)
    sara.refresh_from_db()
    assert (sara.orders_count, sara.total_spent) == (2, Decimal("120.00"))
    assert (sara.first_order_at, sara.last_order_at) == (earlier.placed_at, datetime(2024, 1, 1, tzinfo=UTC))
    omid.refresh_from_db()
    assert (omid.orders_count, omid.total_spent, omid.last_order_at) == (0, Decimal("0"), None)
    # The very figures the service computes.
    before = list(Customer.objects.order_by("pk").values("orders_count", "total_spent", "first_order_at", "last_order_at"))
    services.customers_refresh_order_stats()
    assert list(Customer.objects.order_by("pk").values(
        "orders_count", "total_spent", "first_order_at", "last_order_at")) == before


def test_reimporting_orders_skips_and_counts_the_ones_that_exist(sara):
    lines = (ORDER_HEADER, "A,POS-1,2024-01-01,,,,10,S-1,,,1,10", "B,POS-1,2024-01-02,,,,5,S-2,,,1,5")
    import_orders(csv_file(*lines))

    result = import_orders(csv_file(*lines, "C,POS-1,2024-01-03,,,,7,S-3,,,1,7"))

    assert (result.created, result.skipped) == (1, 2)
    assert Order.objects.annotate(n=Count("lines")).filter(n=1).count() == 3
    assert Order.objects.count() == 3
    sara.refresh_from_db()
    assert (sara.orders_count, sara.total_spent) == (3, Decimal("22.00"))


def test_it_keeps_the_lines_in_file_order(sara):
    import_orders(csv_file(
        ORDER_HEADER,
        *(f"{number},POS-1,2024-01-01,,,,3,S-{index},,,1,1" for index, number in enumerate("ABABCA")),
    ))

    assert [line.sku for line in OrderLine.objects.filter(order__order_number="A").order_by("pk")] == ["S-0", "S-2", "S-5"]
    assert list(Order.objects.order_by("pk").values_list("order_number", flat=True)) == ["A", "B", "C"]


# Orders: bad files -----------------------------------------------------------------------


def test_it_reports_each_bad_order_row_with_its_line_and_writes_nothing(sara):
    import_orders(csv_file("order_number,customer_ref,placed_at,total", "OLD,POS-1,2023-01-01,5"))
    before = snapshot()

    errors = errors_of(
        import_orders,
        ORDER_HEADER,
        "GOOD,POS-1,2024-01-01,,,,10,NEW-SKU,New,,1,10",
        ",POS-1,2024-01-01,,,,10,,,,,",
        "A,,,shipped,bike,EURO,,,,,,",
        "B,POS-1,2024-01-32,,,,-1,,,,,",
        "C,POS-1,01/02/2024,,,,1e400,,,,,",
        "D,POS-1,2024-01-01,,,,1.999,,,,0,",
        "E,POS-1,2024-01-01,,,,NaN,,,cat,1.5,-2",
        "F,POS-1,2024-01-01,,,,1000000000000000,S," + "n" * 201 + ",,x,1",
        "G,POS-1,2024-01-01,,,,1",
        "H" * 65 + ",POS-1,2024-01-01,,,,1,,,,,",
        "I,POS-1,2024-01-01,,,,1,S,,,0,1",
        "J,POS-1,2024-01-01,,,,1,S,,,²,1",
    )

    assert errors == [
        "line 3: order_number is required",
        'line 4: customer_ref is required; placed_at is required; status "shipped" is not one of placed, paid, '
        'fulfilled, cancelled, refunded; channel "bike" is not one of store, online, app, phone; '
        'currency "EURO" is not a 3-letter code; total is required',
        'line 5: placed_at "2024-01-32" is not an ISO 8601 date or datetime; total "-1" is negative',
        'line 6: placed_at "01/02/2024" is not an ISO 8601 date or datetime; total "1e400" is larger than the limit of 999999999999999.99',
        'line 7: total "1.999" has more than 2 decimal places; a line needs a sku or a product_name; '
        'quantity "0" is not a whole number of at least 1; unit_price is required for a line',
        'line 8: total "NaN" is not a number; a line needs a sku or a product_name; '
        'quantity "1.5" is not a whole number of at least 1; unit_price "-2" is negative',
        'line 9: total "1000000000000000" is larger than the limit of 999999999999999.99; product_name is longer than 200 characters; '
        'quantity "x" is not a whole number of at least 1',
        "line 10: expected 12 values, found 7",
        "line 11: order_number is longer than 64 characters",
        'line 12: quantity "0" is not a whole number of at least 1',
        'line 13: quantity "²" is not a whole number of at least 1',
    ]
    assert snapshot() == before


def test_it_reports_every_row_of_an_order_whose_customer_is_unknown(sara, omid):
    CustomerFactory(email="twin@example.com", phone=omid.phone)
    before = snapshot()

    errors = errors_of(
        import_orders,
        "order_number,customer_ref,placed_at,total,sku,unit_price",
        "A,POS-404,2024-01-01,10,S-1,5",
        "A,POS-404,2024-01-01,10,S-2,5",
        "B,POS-1,2024-01-01,10,S-1,10",
        "C,+989351112233,2024-01-01,3,,",
    )

    assert errors == [
        'line 2: customer_ref "POS-404" matches no customer',
        'line 3: customer_ref "POS-404" matches no customer',
        'line 5: customer_ref "+989351112233" matches several customers',
    ]
    assert snapshot() == before


def test_it_reports_rows_of_one_order_that_disagree(sara, omid):
    before = snapshot()

    errors = errors_of(
        import_orders,
        "order_number,customer_ref,placed_at,status,total,sku,unit_price",
        "A,POS-1,2024-01-01,paid,10,S-1,5",
        "A,POS-1,2024-01-01T00:00:00+00:00,paid,10.00,S-2,5",  # the same values, written otherwise
        "A,POS-1,2024-01-02,paid,11,S-3,1",  # next to the order's rows: checked while reading
        "B,POS-1,2024-01-01,,3,S-1,3",
        "A,omid@example.com,2024-01-01,fulfilled,10,S-4,1",  # further down: checked in SQL, every row of it
        "A,omid@example.com,2024-01-01,fulfilled,10,S-5,1",
        "A,POS-1,2024-01-01,paid,10,S-6,1",  # further down but agreeing
    )

    assert errors == [
        'line 4: order "A" differs from line 2 in placed_at, total',
        'line 6: order "A" differs from line 2 in customer_ref, status',
        'line 7: order "A" differs from line 2 in customer_ref, status',
    ]
    assert snapshot() == before


@pytest.mark.parametrize(("header", "errors"), [
    ("order_number,customer_ref,placed_at", ['line 1: missing column "total"']),
    ("order_number,customer_ref,placed_at,total,colour,Total",
     ['line 1: unknown column "colour"; column "total" appears twice']),
])
def test_it_checks_the_order_header(header, errors):
    assert errors_of(import_orders, header, "a,b,c") == errors


# Both: the file itself -----------------------------------------------------------------------


@pytest.mark.parametrize("importer", [import_customers, import_orders])
def test_an_empty_file_is_refused(importer):
    with pytest.raises(ImportFailed) as failure:
        importer(io.BytesIO(b""))
    assert failure.value.errors == ["line 1: the file is empty; the first line must name the columns"]


def test_a_file_with_only_a_header_imports_nothing():
    assert import_orders(csv_file(ORDER_HEADER)).rows == 0
    assert import_customers(csv_file(CUSTOMER_HEADER, bom=True)).rows == 0


def test_it_reads_utf8_with_a_bom_windows_line_ends_and_blank_lines(sara):
    data = "\r\n".join(["external_ref,first_name", "POS-1,Sárá", "", "POS-2,Réza", ""]).encode()

    result = import_customers(io.BytesIO(b"\xef\xbb\xbf" + data))

    assert (result.rows, result.created, result.updated) == (2, 1, 1)
    assert Customer.objects.get(external_ref="POS-2").first_name == "Réza"

    orders = csv_file("order_number,customer_ref,placed_at,total", "A,POS-1,2024-01-01,1", bom=True)
    assert import_orders(orders).created == 1


def test_it_counts_lines_of_quoted_values_that_span_lines(sara):
    errors = errors_of(
        import_orders,
        "order_number,customer_ref,placed_at,total,product_name,unit_price",
        'A,POS-1,2024-01-01,1,"two\nlines",1',
        "B,POS-1,bad,1,,",
    )

    assert errors == ['line 4: placed_at "bad" is not an ISO 8601 date or datetime']


def test_it_reports_lines_that_are_not_utf8(sara):
    data = b"external_ref,first_name\nPOS-1,Sara\nPOS-2,\xe9\n"

    with pytest.raises(ImportFailed) as failure:
        import_customers(io.BytesIO(data))

    assert failure.value.errors == ["line 3: the text is not UTF-8"]


def test_it_reads_a_path_and_text(tmp_path, sara):
    csv_path = tmp_path / "orders.csv"
    csv_path.write_text("order_number,customer_ref,placed_at,total\nA,POS-1,2024-01-01,1\n")

    assert import_orders(csv_path).created == 1
    assert import_customers(io.StringIO("external_ref,city\nPOS-1,Yazd\n")).updated == 1


def test_progress_is_reported_in_bytes_read(settings, tmp_path, sara):
    settings.CRM_IMPORT_BATCH_SIZE = 2
    csv_path = tmp_path / "orders.csv"
    csv_path.write_text("order_number,customer_ref,placed_at,total\n" + "".join(
        f"N-{index},POS-1,2024-01-01,1\n" for index in range(7)))
    reported = []

    import_orders(csv_path, progress=reported.append)

    assert len(reported) > 1
    assert sum(reported) == csv_path.stat().st_size


def test_backslashes_and_tabs_in_values_survive(sara):
    import_orders(csv_file(
        ORDER_HEADER, 'A\\1,POS-1,2024-01-01,,,,1,"S\t1","C:\\\\shop\\new",,1,1',
    ))

    line = OrderLine.objects.get()
    assert (line.order.order_number, line.sku, line.product_name) == ("A\\1", "S\t1", "C:\\\\shop\\new")


# Commands ---------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _write(tmp_path, name, *lines):
    csv_path = tmp_path / name
    csv_path.write_text("\n".join(lines) + "\n")
    return str(csv_path)


def test_the_commands_print_a_summary(tmp_path, sara):
    out = io.StringIO()
    call_command("import_customers", _write(tmp_path, "c.csv", "external_ref,city", "POS-1,Qom", "POS-2,Qom"), stdout=out)
    assert "2 rows: 1 created, 1 updated, 0 skipped" in out.getvalue()

    out = io.StringIO()
    call_command("import_orders", _write(tmp_path, "o.csv", "order_number,customer_ref,placed_at,total",
                                         "A,POS-1,2024-01-01,1"), stdout=out)
    assert "1 row: 1 created, 0 updated, 0 skipped" in out.getvalue()
    assert "\r" not in out.getvalue()  # no progress bar when nobody watches


@pytest.mark.parametrize(("command", "header"), [
    ("import_customers", "email,nickname"), ("import_orders", "order_number,customer_ref,placed_at,total,nickname"),
])
def test_the_commands_exit_with_status_1_and_print_each_bad_row(tmp_path, command, header):
    err = io.StringIO()
    bad = _write(tmp_path, "bad.csv", header, "a,b,c,d,e")

    with pytest.raises(CommandError) as failure:
        call_command(command, bad, stderr=err)

    assert failure.value.returncode == 1
    assert err.getvalue().splitlines() == ['line 1: unknown column "nickname"']


def test_the_orders_command_lists_every_bad_row_on_stderr(tmp_path, sara):
    err = io.StringIO()
    bad = _write(tmp_path, "bad.csv", "order_number,customer_ref,placed_at,total", "A,POS-1,2024-01-01,x",
                 "B,nobody,2024-01-01,1")

    with pytest.raises(CommandError) as failure:
        call_command("import_orders", bad, stderr=err)

    assert failure.value.returncode == 1
    assert err.getvalue().splitlines() == [
        'line 2: total "x" is not a number', 'line 3: customer_ref "nobody" matches no customer']
    assert Order.objects.count() == 0


def test_the_commands_refuse_a_missing_file():
    with pytest.raises(CommandError) as failure:
        call_command("import_orders", "/no/such/file.csv")
    assert failure.value.returncode == 1


def test_the_commands_show_a_progress_bar_on_a_terminal(tmp_path, sara):
    out = Terminal()
    call_command("import_customers", _write(tmp_path, "c.csv", "external_ref", "POS-1"), stdout=out)

    assert "reading c.csv" in out.getvalue() or "writing" in out.getvalue()


# Admin ------------------------------------------------------------------------------------


class CustomerImportAdmin(CsvImportAdminMixin, admin.ModelAdmin):
    import_kind = "customers"


class OrderImportAdmin(CsvImportAdminMixin, admin.ModelAdmin):
    import_kind = "orders"


import_site = admin.AdminSite(name="import_admin")
import_site.register(Customer, CustomerImportAdmin)
import_site.register(Order, OrderImportAdmin)
urlpatterns = [path("import-admin/", import_site.urls)]


@pytest.fixture
def admin_urls(settings):
    """The mixin on a throwaway admin site, so that these tests do not depend on crm/admin.py."""
    settings.ROOT_URLCONF = __name__
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _import_url(kind):
    return reverse(f"import_admin:crm_{kind}_import", current_app="import_admin")


def _upload(name, *lines):
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def test_the_admin_imports_a_good_file_and_returns_to_the_list(admin_urls, client, marketing_user, sara):
    client.force_login(marketing_user)

    response = client.post(_import_url("order"), {"file": _upload(
        "orders.csv", "order_number,customer_ref,placed_at,total", "A,POS-1,2024-01-01,5")})

    assert response.status_code == 302
    assert response.url == reverse("import_admin:crm_order_changelist", current_app="import_admin")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The file was imported: 1 row: 1 created, 0 updated, 0 skipped (0 products created, 0 order lines created)."]
    assert Order.objects.get().customer == sara


def test_the_admin_shows_every_bad_line_and_writes_nothing(admin_urls, client, marketing_user, sara):
    client.force_login(marketing_user)
    before = snapshot()

    response = client.post(_import_url("customer"), {"file": _upload(
        "customers.csv", "external_ref,email", "NEW-1,new@example.com", "NEW-2,nope", "NEW-3,new@example.com")})

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "Nothing was imported: 2 rows are wrong. Correct them and upload the file again.",
        'line 3: email "nope" is not a valid email address',
        'line 4: email "new@example.com" is also on line 2',
    ]
    assert "line 3: email" in response.content.decode().lower()  # the admin capitalises messages
    assert snapshot() == before


def test_the_admin_offers_the_import_only_to_those_allowed(admin_urls, client, marketing_user, support_user):
    client.force_login(marketing_user)
    assert client.get(_import_url("customer")).status_code == 200
    changelist = client.get(reverse("import_admin:crm_customer_changelist", current_app="import_admin"))
    assert _import_url("customer") in changelist.content.decode()

    client.force_login(support_user)
    assert client.get(_import_url("customer")).status_code == 403
    upload = _upload("customers.csv", "external_ref", "NEW-1")
    assert client.post(_import_url("customer"), {"file": upload}).status_code == 403
    assert not Customer.objects.filter(external_ref="NEW-1").exists()
    changelist = client.get(reverse("import_admin:crm_customer_changelist", current_app="import_admin"))
    assert changelist.status_code == 200
    assert _import_url("customer") not in changelist.content.decode()


def test_the_admin_needs_a_file(admin_urls, client, marketing_user):
    client.force_login(marketing_user)

    response = client.post(_import_url("order"), {})

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["This field is required."]}


def test_the_number_of_queries_does_not_grow_with_the_rows(sara, webhook_subscribers_remembered):
    """Not a timing test (bench/ has the benchmark): set-based, whatever the file's size (the orders' event
    included: which webhook events have subscribers is remembered, as on a busy server)."""
    def queries(rows):
        lines = [f"N-{index},POS-1,2024-01-01,,,,1,S-{index % 3},,,1,1" for index in range(rows)]
        with CaptureQueriesContext(connection) as captured:
            import_orders(csv_file(ORDER_HEADER, *lines))
        return len(captured)

    assert queries(3) == queries(60)



@pytest.mark.parametrize("model", ["customer", "order"])
def test_the_real_admin_has_the_import_pages(client, marketing_user, model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(marketing_user)

    changelist = client.get(reverse(f"admin:crm_{model}_changelist"))
    page = client.get(reverse(f"admin:crm_{model}_import"))

    assert reverse(f"admin:crm_{model}_import") in changelist.content.decode()
    assert page.status_code == 200


def test_a_file_announces_each_customer_s_orders_together_in_chunks_of_whole_customers(settings, sara):
    """So the club locks, credits and reviews each member once per import, all its orders earning in id order
    together, whatever the chunk size; a customer with more orders than a chunk is a chunk of its own."""
    settings.CRM_IMPORT_BATCH_SIZE = 2
    mina = CustomerFactory(external_ref="POS-2")
    reza = CustomerFactory(external_ref="POS-3")
    rows = [f"{number},{ref},2024-01-0{day},1" for number, ref, day in (
        ("A1", "POS-1", 1), ("B1", "POS-2", 1), ("A2", "POS-1", 2), ("C1", "POS-3", 1), ("A3", "POS-1", 3),
        ("B2", "POS-2", 2))]
    batches = []

    def receive(sender, order_ids, **kwargs):
        batches.append(set(Order.objects.filter(pk__in=order_ids).values_list("customer_id", flat=True)))
        assert list(order_ids) == sorted(order_ids)

    signals.orders_created.connect(receive, dispatch_uid="test.import_batches")
    try:
        assert import_orders(csv_file("order_number,customer_ref,placed_at,total", *rows)).created == 6
    finally:
        signals.orders_created.disconnect(dispatch_uid="test.import_batches")

    assert batches == [{sara.pk}, {mina.pk}, {reza.pk}]  # Sara's three orders together, though a chunk is two
    announced = [customer for batch in batches for customer in batch]
    assert len(announced) == len(set(announced))
