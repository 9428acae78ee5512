"""Fuzzing the CSV imports (hypothesis): generated files with random unicode, NUL bytes, lone
surrogates, bidi controls, missing columns, bad dates, huge numbers (1e400, 10**30), duplicate
keys, a BOM and wrong delimiters either import in full or fail with
`line N: reason` messages and NOTHING written; never an unhandled exception."""

import io
import re
from collections import Counter

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.importing import import_customers, import_orders
from crm.importing.common import ImportFailed
from crm.models import ConsentChange, Customer, Order, OrderLine, Product, Tag
from crm.validators import BIDI_CONTROLS
from tests.factories import CustomerFactory
from tests.integrity.helpers import DERANDOMIZE


pytestmark = pytest.mark.django_db

EXAMPLES = 50
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LINE_MESSAGE = re.compile(r"^line \d+: .+", re.S)
RUNS: Counter = Counter()

# What an attacker or a broken export puts in a cell: NUL bytes, lone surrogates (written as the
# invalid UTF-8 they become), bidi controls that reverse what a reader sees, numbers no column holds.
HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\u202eevil.csv", "\u2066A\u2069", "\u200f\u200e", "\ufeff",
           "1e400", "-1e400", str(10**30), "9" * 400, "0" * 50 + "1", "Infinity"]

cell = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=20).flatmap(lambda text: st.sampled_from(HOSTILE).map(lambda bad: text + bad)),
    st.text(max_size=20),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=200, max_size=400),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["", "2025-02-30", "2025-13-01", "31/12/2024", "2024-01-01T10:00:00", "1e9999", "NaN", "-5", "0",
                     "99999999999999999999.99", "yes", "no", "maybe", "a@b.c", "not-an-email", "+989121234567", "۱۲۳",
                     "fulfilled", "cancelled", "online", "store", "USD", "usd", "A|B|C", "\"quoted, cell\"", "1.000,50"]),
)


def csv_file(columns, body_rows, *, bom: bool, delimiter: str) -> io.BytesIO:
    def line(cells):
        return delimiter.join('"' + str(value).replace('"', '""') + '"' if ("," in str(value) or "\n" in str(value))
                              else str(value) for value in cells)
    text = "\n".join([line(columns)] + [line(row) for row in body_rows]) + "\n"
    # "surrogatepass": a lone surrogate reaches the importer as the bytes a careless encoder writes.
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass"))


def files(all_columns, valid_row):
    """Some columns (in any order, now and then an unknown or missing one), rows of random or valid cells."""

    @st.composite
    def build(draw):
        columns = draw(st.lists(st.sampled_from(all_columns + ("unknown_col",)), min_size=1, max_size=len(all_columns), unique=True))
        rows = draw(st.lists(st.one_of(
            st.lists(cell, min_size=len(columns), max_size=len(columns)),
            valid_row(columns),
            st.lists(cell, max_size=len(columns) + 2),  # too few or too many cells
        ), max_size=6))
        if rows and draw(st.booleans()):
            rows.append(list(rows[0]))  # a duplicate key
        return csv_file(columns, rows, bom=draw(st.booleans()), delimiter=draw(st.sampled_from([",", ",", ";", "\t"])))

    return build()


def check_import(importer, source, tables, name, *, then=None) -> None:
    RUNS[name] += 1
    with transaction.atomic():
        before = {model.__name__: model.objects.count() for model in tables}
        try:
            result = importer(source)
        except ImportFailed as failure:
            assert failure.errors and all(LINE_MESSAGE.match(message) for message in failure.errors), failure.errors
            assert {model.__name__: model.objects.count() for model in tables} == before  # nothing imported
            RUNS[name + " refused"] += 1
        else:
            assert result.created + result.updated + result.skipped >= 0 and result.rows >= result.created
            RUNS[name + " imported"] += 1
            if then is not None:
                then()
        transaction.set_rollback(True)


def no_bidi_controls_in_names() -> None:
    """A name that turns the text around it (U+202E...) would mislead whoever reads a list of customers."""
    for names in Customer.objects.values_list("first_name", "last_name"):
        assert not BIDI_CONTROLS.intersection("".join(names)), names


def test_fuzzing_the_customer_import_gives_all_or_nothing(capsys):
    CustomerFactory(email="known@example.com", external_ref="K-1")
    columns = ("external_ref", "first_name", "last_name", "email", "phone", "birth_date", "city", "country", "source",
               "acquired_at", "email_opt_in", "sms_opt_in", "tags")
    examples = {"external_ref": st.sampled_from(["K-1", "K-2", "K-3"]), "email": st.sampled_from(["known@example.com", "n@example.com"]),
                "birth_date": st.sampled_from(["1990-05-01", ""]), "email_opt_in": st.sampled_from(["yes", "no", ""]),
                "first_name": st.text(max_size=20)}

    def valid_row(chosen):
        return st.tuples(*[examples.get(column, st.just("")) for column in chosen]).map(list)

    @FUZZ
    @given(source=files(columns, valid_row))
    def check(source):
        check_import(import_customers, source, (Customer, ConsentChange, Tag), "customers", then=no_bidi_controls_in_names)

    check()
    with capsys.disabled():
        print(f"\nfuzz customer import: {RUNS['customers']} files, {RUNS['customers imported']} imported, "
              f"{RUNS['customers refused']} refused with line N messages")
    assert RUNS["customers"] >= EXAMPLES


def test_fuzzing_the_order_import_gives_all_or_nothing(capsys):
    CustomerFactory(email="buyer@example.com", external_ref="B-1")
    columns = ("order_number", "customer_ref", "placed_at", "status", "channel", "currency", "total", "sku", "product_name",
               "category", "quantity", "unit_price")
    examples = {"order_number": st.sampled_from(["O-1", "O-2"]), "customer_ref": st.sampled_from(["B-1", "buyer@example.com", "nobody"]),
                "placed_at": st.sampled_from(["2025-01-05", "2025-01-05 10:00"]), "total": st.sampled_from(["10.00", "5"]),
                "quantity": st.sampled_from(["1", "2"]), "unit_price": st.sampled_from(["5.00", "2.50"]), "sku": st.just("S1"),
                "product_name": st.just("Beans")}

    def valid_row(chosen):
        return st.tuples(*[examples.get(column, st.just("")) for column in chosen]).map(list)

    @FUZZ
    @given(source=files(columns, valid_row))
    def check(source):
        check_import(import_orders, source, (Order, OrderLine, Product, Customer), "orders")

    check()
    with capsys.disabled():
        print(f"\nfuzz order import: {RUNS['orders']} files, {RUNS['orders imported']} imported, "
              f"{RUNS['orders refused']} refused with line N messages")
    assert RUNS["orders"] >= EXAMPLES
