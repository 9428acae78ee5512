"""Hostile cells in a CSV file are the file's fault, reported as `line N: reason` before anything
is written (issue 16): a NUL character in any cell (PostgreSQL's text cannot hold it and the
orders importer's COPY would break on it) and a cell longer than the csv module's field limit.
Never a 500 in the admin, never a traceback from a command."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from crm.importing import ImportFailed, import_customers, import_orders
from crm.models import Customer, Order
from tests.crm.test_imports import admin_urls, _import_url, _upload, snapshot  # noqa: F401 - fixtures and helpers
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMER_HEADER = "external_ref,first_name,last_name,email,city,tags"
CUSTOMER_ROW = ["NEW-1", "Sara", "Ahmadi", "sara@example.com", "Tehran", "vip"]
ORDER_HEADER = "order_number,customer_ref,placed_at,total,sku,product_name,quantity,unit_price"
ORDER_ROW = ["A-1", "POS-1", "2024-01-01", "5", "BEANS", "Beans", "1", "5"]


@pytest.fixture
def sara(db):
    return CustomerFactory(external_ref="POS-1", email="sara.pos@example.com")


def with_nul(row: list[str], column: int) -> str:
    cells = list(row)
    cells[column] = cells[column][:1] + "\x00" + cells[column][1:]
    return ",".join(cells)


def file_of(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def errors_of(importer, *lines: str) -> list[str]:
    with pytest.raises(ImportFailed) as failure:
        importer(file_of(*lines))
    return failure.value.errors


@pytest.mark.parametrize("column", range(len(CUSTOMER_ROW)))
def test_it_refuses_a_nul_in_any_customer_cell_naming_its_line(column):
    before = snapshot()
    errors = errors_of(import_customers, CUSTOMER_HEADER, ",".join(CUSTOMER_ROW).replace("NEW-1", "NEW-0"),
                       with_nul(CUSTOMER_ROW, column))
    assert errors == ["line 3: a cell holds a NUL character"]
    assert snapshot() == before


@pytest.mark.parametrize("column", range(len(ORDER_ROW)))
def test_it_refuses_a_nul_in_any_order_cell_before_staging_it(sara, column):
    before = snapshot()
    errors = errors_of(import_orders, ORDER_HEADER, with_nul(ORDER_ROW, column))
    assert errors == ["line 2: a cell holds a NUL character"]
    assert snapshot() == before


def test_it_refuses_a_nul_in_the_header():
    errors = errors_of(import_customers, "external_ref,first_\x00name", "NEW-1,Sara")
    assert errors and all(error.startswith("line 1:") for error in errors)


def test_it_refuses_a_cell_longer_than_the_field_limit_naming_its_line():
    long_cell = "x" * (csv.field_size_limit() + 1)
    errors = errors_of(import_customers, CUSTOMER_HEADER, ",".join(CUSTOMER_ROW), f"NEW-2,{long_cell}")
    assert errors == [f"line 3: a cell is longer than {csv.field_size_limit()} characters"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("command, lines", [
    ("import_customers", (CUSTOMER_HEADER, with_nul(CUSTOMER_ROW, 1))),
    ("import_orders", (ORDER_HEADER, with_nul(ORDER_ROW, 5))),
])
def test_the_commands_report_a_nul_as_a_line_and_exit_non_zero(tmp_path, sara, command, lines):
    path = tmp_path / "file.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(command, str(path), stdout=io.StringIO(), stderr=err)
    assert failure.value.returncode != 0
    assert "line 2: a cell holds a NUL character" in err.getvalue() + str(failure.value)
    assert "Traceback" not in err.getvalue()
    assert not Order.objects.exists() and Customer.objects.count() == 1


@pytest.mark.parametrize("kind, lines", [
    ("customer", (CUSTOMER_HEADER, with_nul(CUSTOMER_ROW, 4))),
    ("order", (ORDER_HEADER, with_nul(ORDER_ROW, 1))),
])
def test_the_admin_shows_a_nul_as_a_line_not_a_500(admin_urls, client, marketing_user, sara, kind, lines):  # noqa: F811
    client.force_login(marketing_user)
    before = snapshot()
    response = client.post(_import_url(kind), {"file": _upload(f"{kind}s.csv", *lines)})
    assert response.status_code == 200
    assert "line 2: a cell holds a NUL character" in [str(m) for m in response.context["messages"]]
    assert snapshot() == before
