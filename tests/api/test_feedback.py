"""surveys/, surveys/{id}/results/, surveys/{id}/invitations/, returns/."""

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.services import LineInput
from feedback import services as feedback_services
from feedback.models import Invitation, ReturnRequest, Survey
from feedback.services import returns as return_services
from tests.api.helpers import assert_problem
from tests.factories import CustomerFactory

SURVEYS = "/api/v1/surveys/"
RETURNS = "/api/v1/returns/"


@pytest.fixture
def own_key(make_client):
    """An own-data-only key and a customer its partner created."""
    client = make_client(own_data_only=True)
    created = client.post("/api/v1/customers/", {"email": "mine@example.com"}, format="json")
    assert created.status_code == 201, created.content
    client.mine = created.json()["id"]
    return client


def answer(survey, customer, *, nps, csat=None, at=None):
    invite = feedback_services.invitation_create(survey=survey, customer=customer, respect_cooldown=False)
    questions = {q.type: q for q in survey.questions.all()}
    answers = {questions["nps"]: nps}
    if csat is not None:
        answers[questions["rating"]] = csat
    response = feedback_services.response_submit(survey=survey, invitation=invite.invitation, answers=answers)
    if at is not None:
        type(response).objects.filter(pk=response.pk).update(submitted_at=at)
    return response


# --- surveys --------------------------------------------------------------------------------------


def test_surveys_are_listed_and_read_with_their_questions(api, survey):
    closed = Survey.objects.create(title="Old", is_active=False)
    rows = api.get(SURVEYS).json()["results"]
    assert [(row["id"], row["is_open"]) for row in rows] == [(str(closed.public_id), False), (str(survey.public_id), True)]
    assert rows[1]["languages"] == ["en", "fa", "ar"] and rows[1]["kind"] == "nps"
    detail = api.get(f"{SURVEYS}{survey.public_id}/").json()
    assert [q["type"] for q in detail["questions"]] == ["nps", "rating", "single", "multiple", "long_text"]
    assert [c["label"] for c in detail["questions"][2]["choices"]] == ["Store", "Online"]
    assert detail["questions"][0]["scores"] == "nps" and detail["intro"] == "Two minutes, promise."


def test_the_survey_list_runs_a_constant_number_of_queries(api, survey, django_assert_num_queries):
    api.get(SURVEYS)
    for n in range(4):
        Survey.objects.create(title=f"Survey {n}")
    with django_assert_num_queries(2):  # page, call log (the key is remembered: api.keys)
        assert len(api.get(f"{SURVEYS}?page_size=2").json()["results"]) == 2
    with django_assert_num_queries(2):
        assert len(api.get(SURVEYS).json()["results"]) == 5


def test_survey_detail_runs_a_constant_number_of_queries(api, survey, django_assert_num_queries):
    api.get(SURVEYS)
    with django_assert_num_queries(4):  # survey, questions, choices, call log (the key is remembered: api.keys)
        assert len(api.get(f"{SURVEYS}{survey.public_id}/").json()["questions"]) == 5


@pytest.mark.parametrize("path", ["999999/", "abc/", "99999999999999999999999/", "١/", "999999/results/",
                                  "abc/results/"])
def test_an_unknown_survey_is_404(api, survey, path):
    assert_problem(api.get(f"{SURVEYS}{path}"), 404)


def test_surveys_need_the_feedback_read_scope(make_client, survey):
    client = make_client("customers:read", "customers:write")
    for path in ("", f"{survey.public_id}/", f"{survey.public_id}/results/"):
        body = assert_problem(client.get(f"{SURVEYS}{path}"), 403)
        assert body["scope"] == "feedback:read" and "feedback:read" in body["detail"]


# --- results --------------------------------------------------------------------------------------


def test_results_give_nps_and_csat_over_a_period(api, survey):
    for nps, csat in ((10, 5), (9, 4), (3, 1)):
        answer(survey, CustomerFactory(), nps=nps, csat=csat)
    answer(survey, CustomerFactory(), nps=0, at=timezone.now() - timedelta(days=400))
    body = api.get(f"{SURVEYS}{survey.public_id}/results/").json()
    assert (body["nps"], body["promoters"], body["detractors"], body["nps_answers"]) == (0, 2, 2, 4)
    assert body["responses"] == 4 and body["start"] is None
    today = timezone.localdate()
    recent = api.get(f"{SURVEYS}{survey.public_id}/results/?start={today - timedelta(days=30)}&end={today + timedelta(days=1)}")
    body = recent.json()
    assert recent.status_code == 200 and body["start"] == str(today - timedelta(days=30))
    assert (body["nps"], body["nps_answers"], body["csat"], body["csat_answers"]) == (33, 3, 66.7, 3)


def test_an_own_data_only_key_gets_the_results_of_its_own_customers(own_key, api, survey):
    from crm.models import Customer

    answer(survey, Customer.objects.get(public_id=own_key.mine), nps=10)
    answer(survey, CustomerFactory(), nps=0)
    assert own_key.get(f"{SURVEYS}{survey.public_id}/results/").json()["nps"] == 100
    assert api.get(f"{SURVEYS}{survey.public_id}/results/").json()["nps"] == 0


@pytest.mark.parametrize("query, field", [
    ("start=yesterday", "start"), ("end=2026-13-01", "end"), ("start=2026-02-01&end=2026-01-01", "end"),
    ("start=0001-01-01", "start"), ("segment=vip", "segment"),
])
def test_bad_result_periods_are_a_400_naming_the_field(api, survey, query, field):
    body = assert_problem(api.get(f"{SURVEYS}{survey.public_id}/results/?{query}"), 400)
    assert field in body["errors"], body


# --- invitations ----------------------------------------------------------------------------------


def test_an_invitation_returns_the_customers_personal_link(api, survey, customer, place_order, settings):
    settings.CAMPAIGNS_PUBLIC_BASE_URL = "https://crm.example.com"
    order = place_order(customer)
    response = api.post(f"{SURVEYS}{survey.public_id}/invitations/", {"customer": str(customer.public_id),
                                                               "order": str(order.public_id)}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["link"].startswith("https://crm.example.com/") and body["customer"] == str(customer.public_id)
    token = body["link"].rstrip("/").rsplit("/", 1)[-1]
    invitation = feedback_services.invitation_for_token(token)
    assert str(invitation.public_id) == body["id"] and invitation.customer == customer and invitation.order == order
    assert body["order"] == str(order.public_id) and body["survey"] == str(survey.public_id)


def test_a_second_invitation_within_the_cooldown_is_a_409(api, survey, customer):
    first = api.post(f"{SURVEYS}{survey.public_id}/invitations/", {"customer": str(customer.public_id)}, format="json")
    assert first.status_code == 201
    body = assert_problem(api.post(f"{SURVEYS}{survey.public_id}/invitations/", {"customer": str(customer.public_id)},
                                   format="json"), 409)
    assert "90 days" in body["detail"]
    assert Invitation.objects.count() == 1


def test_a_closed_survey_invites_nobody(api, survey, customer):
    Survey.objects.filter(pk=survey.pk).update(ends_at=timezone.now() - timedelta(days=1))
    assert_problem(api.post(f"{SURVEYS}{survey.public_id}/invitations/", {"customer": str(customer.public_id)},
                            format="json"), 409)
    assert not Invitation.objects.exists()


def test_an_invitation_posted_twice_with_one_idempotency_key_is_created_once(api, survey, customer):
    body = {"customer": str(customer.public_id)}
    first = api.post(f"{SURVEYS}{survey.public_id}/invitations/", body, format="json", HTTP_IDEMPOTENCY_KEY="inv-1")
    second = api.post(f"{SURVEYS}{survey.public_id}/invitations/", body, format="json", HTTP_IDEMPOTENCY_KEY="inv-1")
    assert first.status_code == second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.json()["link"] == first.json()["link"]
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize("payload, field", [
    ({}, "customer"),
    ({"customer": "nope"}, "customer"),
    ({"customer": "00000000-0000-0000-0000-000000000000"}, "customer"),
    ({"customer": "CUSTOMER", "order": "00000000-0000-0000-0000-000000000000"}, "order"),
    ({"customer": "CUSTOMER", "channel": "sms"}, "channel"),
])
def test_bad_invitations_are_a_400_naming_the_field(api, survey, customer, payload, field):
    payload = {name: str(customer.public_id) if value == "CUSTOMER" else value for name, value in payload.items()}
    body = assert_problem(api.post(f"{SURVEYS}{survey.public_id}/invitations/", payload, format="json"), 400)
    assert field in body["errors"], body
    assert not Invitation.objects.exists()


def test_an_invitation_cannot_name_another_customers_order(api, survey, customer, place_order):
    order = place_order(CustomerFactory())
    body = assert_problem(api.post(f"{SURVEYS}{survey.public_id}/invitations/", {
        "customer": str(customer.public_id), "order": str(order.public_id)}, format="json"), 400)
    assert "order" in body["errors"]


def test_inviting_needs_the_customers_write_scope(make_client, survey, customer):
    body = assert_problem(make_client("feedback:read", "customers:read").post(
        f"{SURVEYS}{survey.public_id}/invitations/", {"customer": str(customer.public_id)}, format="json"), 403)
    assert body["scope"] == "customers:write"


def test_an_own_data_only_key_invites_only_its_customers(own_key, survey, customer):
    body = assert_problem(own_key.post(f"{SURVEYS}{survey.public_id}/invitations/", {"customer": str(customer.public_id)},
                                       format="json"), 400)
    assert body["errors"]["customer"] == ["No such customer."]
    assert own_key.post(f"{SURVEYS}{survey.public_id}/invitations/", {"customer": own_key.mine}, format="json").status_code == 201
    assert_problem(own_key.post(f"{SURVEYS}424242/invitations/", {"customer": own_key.mine}, format="json"), 404)


# --- returns --------------------------------------------------------------------------------------


@pytest.fixture
def order(customer, place_order):
    """2 x beans and 1 x mug, placed two days ago."""
    return place_order(customer, days_ago=2, total="300.00", lines=[
        LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
        LineInput(sku="MUG", product_name="Mug", category="kitchen", quantity=1, unit_price=Decimal("100")),
    ])


def line(order, sku):
    return order.lines.get(sku=sku)


def return_body(for_order, **overrides):
    body = {"order": str(for_order.public_id), "resolution": "refund",
            "lines": [{"order_line": str(line(for_order, "BEANS").public_id), "quantity": 2, "reason": "damaged"}]}
    body.update(overrides)
    return body


def test_a_partner_requests_a_return_and_reads_its_state(api, order):
    response = api.post(RETURNS, return_body(order, note="Box crushed 📦"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    request = ReturnRequest.objects.get(public_id=body["id"])
    assert request.channel == "api" and request.state == "requested" and request.note == "Box crushed 📦"
    assert body["state"] == "requested" and body["order"] == str(order.public_id)
    assert body["lines"] == [{"order_line": str(line(order, "BEANS").public_id), "sku": "BEANS", "product_name": "Beans",
                              "quantity": 2, "reason": "damaged", "note": ""}]
    assert [event["to_state"] for event in body["events"]] == ["requested"]

    return_services.return_approve(return_request=request)
    state = api.get(f"{RETURNS}{body['id']}/").json()
    assert state["state"] == "approved" and [e["to_state"] for e in state["events"]] == ["requested", "approved"]
    assert [row["id"] for row in api.get(f"{RETURNS}?order={order.public_id}").json()["results"]] == [body["id"]]


def test_a_store_credit_coupon_reads_as_on_the_club_card(api, order, settings):
    settings.FEEDBACK_STORE_CREDIT_AS = "coupon"
    body = api.post(RETURNS, return_body(order, resolution="store_credit"), format="json").json()
    request = ReturnRequest.objects.get(public_id=body["id"])
    for step in (return_services.return_approve, return_services.return_receive, return_services.return_credit):
        request = step(return_request=request)
    shown = api.get(f"{RETURNS}{body['id']}/").json()["credit_reference"]
    assert shown == "-".join(request.credit_reference[i:i + 4] for i in range(0, 12, 4)) and shown.count("-") == 2


@pytest.mark.parametrize("change, field", [
    ({"order": "00000000-0000-0000-0000-000000000000"}, "order"),
    ({"order": "W-1"}, "order"),
    ({"lines": []}, "lines"),
    ({"lines": "all"}, "lines"),
    ({"resolution": "cash"}, "resolution"),
    ({"lines": [{"order_line": "00000000-0000-0000-0000-000000000000", "quantity": 1, "reason": "damaged"}]},
     "lines[0].order_line"),
    ({"lines": [{"order_line": "BEANS", "quantity": 0, "reason": "damaged"}]}, "lines[0].quantity"),
    ({"lines": [{"order_line": "BEANS", "quantity": 10 ** 30, "reason": "damaged"}]}, "lines[0].quantity"),
    ({"lines": [{"order_line": "BEANS", "quantity": 1, "reason": "bored"}]}, "lines[0].reason"),
    ({"lines": [{"order_line": "BEANS", "quantity": 1, "reason": "damaged", "colour": "red"}]}, "lines[0].colour"),
    ({"lines": [{"order_line": "MUG", "quantity": 1, "reason": "damaged"},
                {"order_line": "BEANS", "quantity": 3, "reason": "damaged"}]}, "lines[1]"),
    ({"refund_amount": "10.00"}, "refund_amount"),
])
def test_bad_return_requests_are_a_400_naming_the_field(api, order, change, field):
    change = copy.deepcopy(change)
    for item in change.get("lines", []) if isinstance(change.get("lines"), list) else []:
        if item["order_line"] in ("BEANS", "MUG"):
            item["order_line"] = str(line(order, item["order_line"]).public_id)
    body = assert_problem(api.post(RETURNS, return_body(order, **change), format="json"), 400)
    assert field in body["errors"], body
    assert not ReturnRequest.objects.exists()


def test_a_line_of_another_order_is_refused(api, order, customer, place_order):
    other = place_order(customer, lines=[LineInput(sku="TEA", quantity=1, unit_price=Decimal("5"))], total="5")
    body = assert_problem(api.post(RETURNS, return_body(order, lines=[
        {"order_line": str(other.lines.get().public_id), "quantity": 1, "reason": "damaged"}]), format="json"), 400)
    assert "lines[0].order_line" in body["errors"]


def test_more_than_was_bought_minus_what_is_already_returned_is_refused(api, order):
    assert api.post(RETURNS, return_body(order), format="json").status_code == 201
    body = assert_problem(api.post(RETURNS, return_body(order), format="json"), 400)
    assert body["errors"]["lines[0]"] == ["At most 0 of this item can be returned."]
    assert ReturnRequest.objects.count() == 1


def test_a_cancelled_order_cannot_be_returned(api, customer, place_order):
    from crm import services as crm_services

    order = crm_services.order_cancel(order=place_order(customer, status="placed", total="100", lines=[
        LineInput(sku="BEANS", quantity=2, unit_price=Decimal("50"))]))
    body = assert_problem(api.post(RETURNS, return_body(order), format="json"), 400)
    assert "cancelled" in body["detail"]


def test_a_return_posted_twice_with_one_idempotency_key_is_created_once(api, order):
    first = api.post(RETURNS, return_body(order, lines=[
        {"order_line": str(line(order, "BEANS").public_id), "quantity": 1, "reason": "damaged"}]),
        format="json", HTTP_IDEMPOTENCY_KEY="ret-1")
    second = api.post(RETURNS, return_body(order, lines=[
        {"order_line": str(line(order, "BEANS").public_id), "quantity": 1, "reason": "damaged"}]),
        format="json", HTTP_IDEMPOTENCY_KEY="ret-1")
    assert first.status_code == second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json() and ReturnRequest.objects.count() == 1


def test_returns_need_their_scopes(make_client, order):
    reader = make_client("feedback:read")
    body = assert_problem(reader.post(RETURNS, return_body(order), format="json"), 403)
    assert body["scope"] == "returns:write"
    writer = make_client("returns:write")
    created = writer.post(RETURNS, return_body(order), format="json")
    assert created.status_code == 201
    assert writer.get(f"{RETURNS}{created.json()['id']}/").status_code == 200
    assert reader.get(f"{RETURNS}{created.json()['id']}/").status_code == 200
    body = assert_problem(make_client("customers:read").get(RETURNS), 403)
    assert body["scope"] == "feedback:read or returns:write"


def test_an_own_data_only_key_sees_and_returns_only_its_customers_orders(own_key, api, order, place_order):
    from crm.models import Customer

    body = assert_problem(own_key.post(RETURNS, return_body(order), format="json"), 400)
    assert body["errors"]["order"] == ["No such order."]
    theirs = api.post(RETURNS, return_body(order), format="json").json()
    assert_problem(own_key.get(f"{RETURNS}{theirs['id']}/"), 404)
    assert own_key.get(RETURNS).json()["results"] == []
    mine = place_order(Customer.objects.get(public_id=own_key.mine),
                       lines=[LineInput(sku="TEA", quantity=1, unit_price=Decimal("5"))], total="5")
    created = own_key.post(RETURNS, {"order": str(mine.public_id), "lines": [
        {"order_line": str(mine.lines.get().public_id), "quantity": 1, "reason": "wrong_item"}]}, format="json")
    assert created.status_code == 201, created.content
    assert [row["id"] for row in own_key.get(RETURNS).json()["results"]] == [created.json()["id"]]


def test_an_unknown_return_is_404(api):
    assert_problem(api.get(f"{RETURNS}00000000-0000-0000-0000-000000000000/"), 404)
    assert_problem(api.get(f"{RETURNS}42/"), 404)
    assert_problem(api.get(f"{RETURNS}?order=42"), 400)


def test_the_returns_list_runs_a_constant_number_of_queries(api, customer, place_order, django_assert_num_queries):
    api.get(RETURNS)
    for n in range(3):
        order = place_order(customer, total="20", lines=[LineInput(sku="A", quantity=1, unit_price=Decimal("10")),
                                                        LineInput(sku="B", quantity=1, unit_price=Decimal("10"))])
        request = api.post(RETURNS, {"order": str(order.public_id), "lines": [
            {"order_line": str(order_line.public_id), "quantity": 1, "reason": "damaged"}
            for order_line in order.lines.all()]}, format="json")
        assert request.status_code == 201
    # page, lines (with their order lines), events, call log (the key is remembered: api.keys)
    with django_assert_num_queries(5):
        assert len(api.get(f"{RETURNS}?page_size=1").json()["results"]) == 1
    with django_assert_num_queries(5):
        assert len(api.get(RETURNS).json()["results"]) == 3


def test_the_schema_documents_surveys_and_returns(api):
    from rest_framework.test import APIClient

    paths = APIClient().get("/api/schema/?format=json").json()["paths"]
    assert set(paths[RETURNS]) >= {"get", "post"} and "get" in paths[f"{RETURNS}{{return_id}}/"]
    assert "post" in paths[f"{SURVEYS}{{survey_id}}/invitations/"]
    results = paths[f"{SURVEYS}{{survey_id}}/results/"]["get"]
    assert {p["name"] for p in results["parameters"]} >= {"start", "end"}
    assert results["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/SurveyResults")
