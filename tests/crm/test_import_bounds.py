"""The order import at its bounds: the largest amount imports, one cent more is a `line N:
reason` naming the column and the limit with exit status 1, and a value the database still
refuses is reported the same way, never as a traceback."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError

from crm.importing.orders import importer as orders_importer
from crm.models import Order, OrderLine
from tests.factories import CustomerFactory

HEADER = "order_number,customer_ref,placed_at,total,sku,quantity,unit_price"
LIMIT = "999999999999999.99"


@pytest.fixture
def sara(db):
    return CustomerFactory(external_ref="POS-1", email="sara@example.com")


def write(tmp_path, *rows: str) -> str:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n")
    return str(path)


def run(path: str) -> tuple[int, list[str]]:
    err = io.StringIO()
    try:
        call_command("import_orders", path, stdout=io.StringIO(), stderr=err)
    except CommandError as failure:
        return failure.returncode, err.getvalue().splitlines()
    return 0, err.getvalue().splitlines()


def test_it_imports_an_order_of_the_largest_amount(tmp_path, sara):
    assert run(write(tmp_path, f"A,POS-1,2024-01-01,{LIMIT},GOLD,1,{LIMIT}")) == (0, [])
    order = Order.objects.get()
    # SQLite keeps 15 significant digits (10^15 here); PostgreSQL every one.
    assert abs(order.total - Decimal(LIMIT)) <= Decimal("0.01") and abs(order.lines.get().unit_price - Decimal(LIMIT)) <= Decimal("0.01")
    sara.refresh_from_db()
    assert sara.orders_count == 1 and abs(sara.total_spent - Decimal(LIMIT)) <= Decimal("0.01")


def test_one_cent_more_is_a_line_naming_the_column_and_the_limit_and_nothing_is_written(tmp_path, sara):
    status, lines = run(write(
        tmp_path,
        f"A,POS-1,2024-01-01,{LIMIT},GOLD,1,{LIMIT}",
        "B,POS-1,2024-01-01,1000000000000000,GOLD,1,10",
        "C,POS-1,2024-01-01,10,GOLD,1,1000000000000000.00",
    ))
    assert status == 1
    assert lines == [
        f'line 3: total "1000000000000000" is larger than the limit of {LIMIT}',
        f'line 4: unit_price "1000000000000000.00" is larger than the limit of {LIMIT}',
    ]
    assert Order.objects.count() == OrderLine.objects.count() == 0


def test_a_value_the_database_still_refuses_is_reported_not_a_traceback(tmp_path, sara, monkeypatch):
    def overflow(self, rows):
        raise DataError("numeric field overflow")

    monkeypatch.setattr(orders_importer.OrderImport, "run", overflow)
    status, lines = run(write(tmp_path, "A,POS-1,2024-01-01,10,GOLD,1,10"))
    assert status == 1
    assert lines == ["the database refused a value of this file (numeric field overflow); nothing was imported"]
    assert Order.objects.count() == 0
