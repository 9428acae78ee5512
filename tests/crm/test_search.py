"""The customer search knows the script (Arabic and Persian letter forms, marks, digits) and reads
phone numbers in every usual form (issue 15): the queryset, the admin's box, and every road that
writes a name keeping the stored search columns right."""

import importlib
import io

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from core.text import normalize_for_search
from crm import services
from crm.importing import import_customers
from crm.models import Customer
from crm.privacy import customer_erase
from tests.factories import CustomerFactory

CUSTOMERS = reverse("admin:crm_customer_changelist")

ARABIC_KIAN = "\u0643\u064a\u0627\u0646"  # كيان
PERSIAN_KIAN = "\u06a9\u06cc\u0627\u0646"  # کیان


def search(term):
    return set(Customer.objects.search(term))


@pytest.fixture
def kians(db):
    """Six customers named کیان, stored the ways people type it (the issue's six), and a Keyvan."""
    six = [
        CustomerFactory(first_name=ARABIC_KIAN, last_name="\u0627\u062d\u0645\u062f\u06cc"),  # Arabic kaf + yeh
        CustomerFactory(first_name="\u0643\u06cc\u0627\u0646", last_name="\u0631\u0636\u0627\u06cc\u06cc"),  # Arabic kaf
        CustomerFactory(first_name="\u06a9\u064a\u0627\u0646", last_name="\u0645\u0631\u0627\u062f\u06cc"),  # Arabic yeh
        CustomerFactory(first_name="\u06a9\u0640\u06cc\u0627\u0646", last_name="\u06a9\u0631\u06cc\u0645\u06cc"),  # tatweel
        CustomerFactory(first_name=PERSIAN_KIAN, last_name="\u0646\u0648\u0631\u06cc"),  # Persian
        CustomerFactory(first_name="\u0633\u0627\u0631\u0627", last_name="\u0643\u064a\u0627\u0646\u200c\u067e\u0648\u0631"),  # last name
    ]
    CustomerFactory(first_name="\u06a9\u06cc\u0648\u0627\u0646", last_name="\u0646\u0648\u0631\u06cc")  # کیوان: not a match
    return set(six)


@pytest.mark.parametrize("typed", [PERSIAN_KIAN, ARABIC_KIAN, "\u06a9\u064a\u0627\u0646", " \u0643\u06cc\u0627\u0646 "])
def test_it_finds_all_six_kians_whichever_letters_are_typed(kians, typed):
    assert search(typed) == kians


def test_it_finds_the_start_of_first_and_last_name_across_letter_forms(kians):
    arabic_ahmadi = next(c for c in kians if c.last_name.startswith("\u0627\u062d\u0645"))
    assert search(f"{ARABIC_KIAN} \u0627\u062d\u0645") == {arabic_ahmadi}  # "كيان احم"
    assert search(f"{PERSIAN_KIAN} \u0627\u062d") == {arabic_ahmadi}
    assert len(search("\u06a9\u06cc\u0627\u0646\u067e\u0648\u0631")) == 1  # the last name without its ZWNJ


@pytest.mark.parametrize("stored, typed", [
    ("\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627", "\u0645\u062d\u0645\u062f\u0631\u0636\u0627"),  # ZWNJ stored, not typed
    ("\u0645\u062d\u0645\u062f\u0631\u0636\u0627", "\u0645\u062d\u0645\u062f\u200c\u0631\u0636"),  # typed, not stored
    ("\u0645\u064f\u062d\u064e\u0645\u0651\u064e\u062f", "\u0645\u062d\u0645"),  # diacritics stored
    ("\u0645\u062d\u0645\u062f", "\u0645\u064f\u062d\u064e\u0645"),  # diacritics typed
    ("\u0641\u0627\u0637\u0645\u0629", "\u0641\u0627\u0637\u0645\u0647"),  # teh marbuta stored, heh typed
    ("\u0623\u062d\u0645\u062f", "\u0627\u062d\u0645\u062f"),  # hamza stored, bare alef typed
    ("Sara", "SARA"),
])
def test_it_ignores_marks_and_letter_forms_on_either_side(db, stored, typed):
    customer = CustomerFactory(first_name=stored, last_name="X")
    CustomerFactory(first_name="Other", last_name="Person")
    assert search(typed) == {customer}


def test_a_term_of_nothing_but_marks_finds_no_name_and_does_not_fail(kians):
    assert search("\u200c\u0640") == set()


# --- phone numbers and codes -------------------------------------------------------------------


@pytest.fixture
def sara(customer, place_order):
    CustomerFactory(first_name="Bob", last_name="Other", email="bob@example.com", phone="+989351112233")
    place_order(customer, order_number="WEB-1001")
    return customer


PHONE_FORMS = [
    "+989121234567", "+98 912 123 4567", "0912 123 4567", "09121234567", "0912-123-4567", "(0912) 123 4567",
    "0098 912 123 4567", "00989121234567", "912 123 4567", "9121234567",
    "\u06f0\u06f9\u06f1\u06f2\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7",  # ۰۹۱۲۱۲۳۴۵۶۷
    "\u0660\u0669\u0661\u0662 \u0661\u0662\u0663 \u0664\u0665\u0666\u0667",  # ٠٩١٢ ١٢٣ ٤٥٦٧
]


@pytest.mark.parametrize("typed", PHONE_FORMS)
def test_it_finds_a_customer_by_every_usual_form_of_the_phone_number(sara, typed, settings):
    settings.PHONENUMBER_DEFAULT_REGION = "IR"
    assert search(typed) == {sara}


def test_without_a_default_region_only_international_forms_find_the_number(sara, settings):
    settings.PHONENUMBER_DEFAULT_REGION = None
    assert search("+98 912 123 4567") == {sara}
    assert search("0098 912 123 4567") == {sara}
    assert search("0912 123 4567") == set()  # a national number needs its country


def test_it_finds_an_order_number_typed_with_persian_digits(sara):
    assert search("WEB-\u06f1\u06f0\u06f0\u06f1") == {sara}


@pytest.mark.parametrize("typed", ["0912 123 4567", "0098 912 123 4567", "912 123 4567", PERSIAN_KIAN])
def test_the_admin_box_finds_them_too(admin_client, sara, kians, typed, settings):
    settings.PHONENUMBER_DEFAULT_REGION = "IR"
    response = admin_client.get(CUSTOMERS, {"q": typed})
    assert response.status_code == 200
    found = set(response.context["cl"].result_list)
    assert found == ({sara} if typed[0].isdigit() else kians)


def test_the_search_is_one_query(sara, kians, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert len(list(Customer.objects.search(f"{ARABIC_KIAN} \u0627\u062d"))) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("term, index", [
    (PERSIAN_KIAN, "crm_customer_search_name"),
    ("\u0627\u062d\u0645", "crm_customer_search_last_name"),
])
def test_on_postgresql_the_name_branches_are_index_scans(kians, term, index):
    queryset = Customer.objects.search(term)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A handful of rows: tell the planner a table read is out, to see that the index can serve the branch.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert f"Index Only Scan using {index}" in plan, plan
    assert "Seq Scan on crm_customer" not in plan, plan


# --- every road keeps the stored search columns right -------------------------------------------


def assert_search_columns(customer):
    customer.refresh_from_db()
    assert customer.search_name == normalize_for_search(f"{customer.first_name} {customer.last_name}")
    assert customer.search_last_name == normalize_for_search(customer.last_name)


def test_the_services_keep_the_search_columns(db):
    customer = services.customer_create(first_name=ARABIC_KIAN, last_name="Ahmadi", email="k@example.com")
    assert_search_columns(customer)
    assert customer.search_name == f"{PERSIAN_KIAN} ahmadi"
    services.customer_update(customer=customer, values={"last_name": "\u0643\u0631\u06cc\u0645\u06cc"})
    assert_search_columns(customer)
    assert customer.search_last_name == "\u06a9\u0631\u06cc\u0645\u06cc"


def test_a_save_with_update_fields_keeps_them(customer):
    customer.first_name = ARABIC_KIAN
    customer.save(update_fields=["first_name"])
    assert_search_columns(customer)
    assert customer.search_name.startswith(PERSIAN_KIAN)


def test_the_file_import_keeps_them_on_create_and_update(db):
    import_customers(io.StringIO(f"external_ref,first_name,last_name\nK-1,{ARABIC_KIAN},Ahmadi\n"))
    customer = Customer.objects.get(external_ref="K-1")
    assert_search_columns(customer)
    import_customers(io.StringIO("external_ref,last_name\nK-1,\u0643\u0631\u06cc\u0645\u06cc\n"))
    assert_search_columns(customer)
    assert search(f"{PERSIAN_KIAN} \u06a9\u0631") == {customer}


def test_an_import_that_does_not_touch_names_leaves_them(customer):
    import_customers(io.StringIO("email,city\nsara@example.com,Shiraz\n"))
    assert_search_columns(customer)
    assert customer.search_name == "sara ahmadi"


def test_the_admin_form_keeps_them(admin_client, customer):
    url = reverse("admin:crm_customer_change", args=[customer.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "tags"}
    data.update({"first_name": ARABIC_KIAN, "last_name": "Ahmadi", "phone": "+989121234567", "language": "en"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert_search_columns(customer)
    assert search(PERSIAN_KIAN) == {customer}


def test_the_api_keeps_them(make_client):
    client = make_client()
    created = client.post("/api/v1/customers/", {"email": "api@example.com", "first_name": ARABIC_KIAN}, format="json")
    assert created.status_code == 201, created.content
    customer = Customer.objects.get(email="api@example.com")
    assert search(PERSIAN_KIAN) == {customer}
    changed = client.patch(f"/api/v1/customers/{customer.public_id}/", {"last_name": "\u0643\u0631\u06cc\u0645\u06cc"},
                           format="json")
    assert changed.status_code == 200, changed.content
    assert_search_columns(customer)


def test_erasure_blanks_them(customer):
    customer_erase(customer=customer)
    customer.refresh_from_db()
    assert (customer.search_name, customer.search_last_name) == ("", "")
    assert search("sara") == set()


def test_the_migration_fills_the_existing_customers(kians):
    Customer.objects.update(search_name="", search_last_name="")
    migration = importlib.import_module("crm.migrations.0014_customer_search_names")
    migration.BATCH = 2  # several batches
    try:
        migration.fill(apps, None)
    finally:
        migration.BATCH = 5000
    for customer in Customer.objects.all():
        assert_search_columns(customer)
    assert search(PERSIAN_KIAN) == kians


def test_the_migration_normalizes_as_the_project_does():
    migration = importlib.import_module("crm.migrations.0014_customer_search_names")
    for text in [ARABIC_KIAN, "\u0645\u064f\u062d\u200c\u0640\u0629 \u06f1\u0661 \u0623 \u0622", "Stra\u00dfe  X", "\ufedb"]:
        assert migration.normalize_for_search(text) == normalize_for_search(text)
