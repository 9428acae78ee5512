"""Issue 16: plausible birth dates, phone extensions refused (never dropped), no bidi controls in names,
the same on every road: the services (the API's road), the admin's form and the file import."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.importing import ImportFailed, import_customers
from crm.models import Customer

pytestmark = pytest.mark.django_db

RLO_NAME = "\u202eevil\u202c \u2066Sara\u2069\u200f"
PERSIAN_WITH_ZWNJ = "می\u200cخواهم"
HEADER = "external_ref,first_name,last_name,email,phone,birth_date"
IMPLAUSIBLE_BIRTH_DATES = ["0001-01-01", "1899-12-31", "2999-01-01"]


def tomorrow():
    return (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("birth_date", [*IMPLAUSIBLE_BIRTH_DATES, "tomorrow"])
def test_the_services_refuse_an_implausible_birth_date(birth_date):
    value = tomorrow() if birth_date == "tomorrow" else birth_date
    with pytest.raises(ValidationError) as refused:
        services.customer_create(email="a@example.com", birth_date=value)
    assert "birth_date" in refused.value.message_dict
    assert not Customer.objects.exists()


def test_the_services_keep_plausible_birth_dates_at_both_ends():
    first = services.customer_create(email="a@example.com", birth_date="1900-01-01")
    second = services.customer_create(email="b@example.com", birth_date=timezone.localdate())
    assert first.birth_date.year == 1900 and second.birth_date == timezone.localdate()


@pytest.mark.parametrize("phone", ["+98 912 123 4567 ext. 12", "+989121234567;ext=12", "+1 650 253 0000 x123"])
def test_the_services_refuse_a_phone_with_an_extension_rather_than_drop_it(phone, customer):
    with pytest.raises(ValidationError) as refused:
        services.customer_create(email="a@example.com", phone=phone)
    assert "extension" in refused.value.message_dict["phone"][0]
    with pytest.raises(ValidationError):
        services.customer_update(customer=customer, values={"phone": phone})
    customer.refresh_from_db()
    assert str(customer.phone) == "+989121234567"


def test_the_services_strip_bidi_controls_from_names_and_keep_zwnj():
    customer = services.customer_create(email="a@example.com", first_name=RLO_NAME, last_name=PERSIAN_WITH_ZWNJ)
    customer.refresh_from_db()
    assert customer.first_name == "evil Sara"
    assert customer.last_name == PERSIAN_WITH_ZWNJ and "\u200c" in customer.last_name
    services.customer_update(customer=customer, values={"last_name": "\u202bAhmadi\u202c"})
    customer.refresh_from_db()
    assert customer.last_name == "Ahmadi"


def _import_errors(*rows):
    with pytest.raises(ImportFailed) as failure:
        import_customers(io.BytesIO(("\n".join([HEADER, *rows]) + "\n").encode()))
    assert not Customer.objects.exists()
    return [str(error) for error in failure.value.errors]


def test_the_import_refuses_implausible_birth_dates_and_phone_extensions_by_line():
    errors = " | ".join(_import_errors(
        "R1,A,B,a@example.com,,1899-12-31",
        "R2,A,B,b@example.com,,2999-01-01",
        "R3,A,B,c@example.com,+98 912 123 4567 ext. 12,",
    ))
    assert "line 2" in errors and "out of range" in errors  # parse_date: before 1900
    assert "line 3" in errors and "future" in errors
    assert "line 4" in errors and "extension" in errors


def test_the_import_strips_bidi_controls_from_names():
    import_customers(io.BytesIO(f"{HEADER}\nR1,{RLO_NAME},{PERSIAN_WITH_ZWNJ},a@example.com,,\n".encode()))
    customer = Customer.objects.get()
    assert (customer.first_name, customer.last_name) == ("evil Sara", PERSIAN_WITH_ZWNJ)


def _admin_add(admin_client, **fields):
    data = {
        "first_name": "Nima", "last_name": "", "email": "nima@example.com", "phone": "", "external_ref": "",
        "birth_date": "", "gender": "", "language": "en", "city": "", "country": "", "source": "",
        "acquired_at_0": "", "acquired_at_1": "", "notes": "", **fields,
    }
    return admin_client.post(reverse("admin:crm_customer_add"), data)


@pytest.mark.parametrize("fields", [
    {"birth_date": "0001-01-01"}, {"birth_date": "2999-01-01"}, {"phone": "+98 912 123 4567 ext. 12"},
], ids=["year-1", "year-2999", "extension"])
def test_the_admin_form_refuses_implausible_values_with_a_message(admin_client, fields):
    response = _admin_add(admin_client, **fields)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == set(fields)
    assert not Customer.objects.exists()


def test_the_admin_form_strips_bidi_controls_from_names(admin_client):
    assert _admin_add(admin_client, first_name=RLO_NAME).status_code == 302
    assert Customer.objects.get().first_name == "evil Sara"
