import pytest

from tests.api.helpers import assert_problem
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/sms/inbound/"


@pytest.mark.parametrize("text", ["STOP", "stop ", "لغو", "إلغاء"])
def test_a_stop_reply_recorded_through_the_api_unsubscribes(make_client, text):
    customer = CustomerFactory(phone="+989121112233", sms_opt_in=True)
    reply = make_client("customers:write").post(URL, {"from_number": "+98 912 111 2233", "text": text}, format="json")
    assert reply.status_code == 201, reply.content
    assert reply.json() == {"stop": True, "customers_unsubscribed": 1}
    customer.refresh_from_db()
    assert not customer.sms_opt_in
    assert customer.consent_changes.get().source == "sms stop"


def test_any_other_reply_changes_nothing(make_client):
    customer = CustomerFactory(phone="+989121112233", sms_opt_in=True)
    reply = make_client("customers:write").post(URL, {"from_number": "+989121112233", "text": "Thanks!"}, format="json")
    assert reply.json() == {"stop": False, "customers_unsubscribed": 0}
    customer.refresh_from_db()
    assert customer.sms_opt_in


def test_it_needs_the_scope_and_a_key_that_sees_every_customer(make_client):
    assert assert_problem(make_client("customers:read").post(URL, {"from_number": "+1", "text": "STOP"}, format="json"), 403)
    assert_problem(make_client("customers:write", own_data_only=True).post(
        URL, {"from_number": "+989121112233", "text": "STOP"}, format="json"), 403)


def test_bad_input_is_a_400_with_field_errors(make_client):
    client = make_client("customers:write")
    assert "from_number" in assert_problem(client.post(URL, {"text": "STOP"}, format="json"), 400)["errors"]
    assert "extra" in assert_problem(client.post(URL, {"from_number": "+1", "text": "x", "extra": 1}, format="json"), 400)["errors"]
