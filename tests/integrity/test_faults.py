"""Faults during a request: a database error half way through a service, and a broker that is down.

Transactional tests (real commits, on SQLite and PostgreSQL): a failing step rolls back
everything the request wrote, the caller gets a clean answer it can retry, and work queued
for after the commit never breaks a response that has already been stored.
"""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import IdempotencyRecord
from campaigns import services as campaign_services
from campaigns.models import Automation, Message
from club import services as club_services
from club.models import Membership, PendingPoints, PointsTransaction
from club.services import purchases
from config.celery import app as celery_app
from crm import services as crm_services
from crm.models import Order, OrderLine, Product
from feedback import services as feedback_services
from feedback.models import Answer, Invitation, Response
from feedback.services import surveys as surveys_module
from tests.helpers import member_since
from tests.api.helpers import ORDERS_URL, order_body
from tests.campaigns.helpers import automation
from tests.feedback.helpers import answer_data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_rate_limits")]

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def counts() -> dict:
    models = (Order, OrderLine, Product, PointsTransaction, PendingPoints, Response, Answer, IdempotencyRecord, Message)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def member(club):
    customer = crm_services.customer_create(first_name="Sara", email="sara@example.com", email_opt_in=True,
                                            consent_source="test")
    return member_since(club_services.member_enroll(customer=customer))


def fail_after_writing(monkeypatch, module, name: str):
    """Let the real function write its rows, then fail as a dropped connection would."""
    real = getattr(module, name)
    calls = []

    def failing(*args, **kwargs):
        real(*args, **kwargs)
        calls.append(name)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(module, name, failing)
    return calls


# --- a database error in the middle of a service ----------------------------------------------


def test_a_database_error_while_an_order_earns_points_leaves_no_order_and_a_retry_stores_it_once(
        make_client, member, monkeypatch):
    api = make_client("orders:write")
    before = counts()
    body = order_body(member.customer, placed_at=timezone.now().isoformat())
    # The ledger rows of the batch are written by then, after the order and its lines (on PostgreSQL by the
    # earning's INSERT ... SELECT, elsewhere by the Python road's insert).
    writer = "_write_sql" if connection.vendor == "postgresql" else "_write"
    calls = fail_after_writing(monkeypatch, purchases, writer)
    response = api.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-0001")
    assert calls == [writer]
    # A clean problem answer, no traceback: 503, retry later.
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(settings.RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("application/problem+json")
    assert "Traceback" not in response.content.decode() and "OperationalError" not in response.content.decode()
    # Nothing half-written: no order, no lines, no product, no ledger row, no stored response for the key.
    assert counts() == before
    member.refresh_from_db()
    assert member.points_balance == 0

    monkeypatch.undo()
    retry = api.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-0001")
    assert retry.status_code == 201, retry.content
    again = api.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-0001")
    assert again.status_code == 201 and again.json() == retry.json()
    assert Order.objects.count() == 1
    member.refresh_from_db()
    assert member.points_balance == 250 == PointsTransaction.objects.get(order__isnull=False).points


def test_a_database_error_while_survey_answers_are_stored_shows_the_form_again_and_saves_nothing(
        survey, member, monkeypatch):  # noqa: F811
    invite = feedback_services.invitation_create(survey=survey, customer=member.customer)
    url = reverse("feedback:invitation", args=[invite.token])
    data = answer_data(survey, nps=3, csat=2, single=survey.questions.get(position=3).choices.first().pk,
                       text="Ça n'a pas marché — 😞")
    client = Client(raise_request_exception=False)
    before = counts()
    calls = fail_after_writing(monkeypatch, surveys_module, "_store_answer")
    page = client.post(url, data)
    assert calls == ["_store_answer"]
    assert page.status_code == 503 and page["Retry-After"] == str(settings.RETRY_AFTER_SECONDS)
    assert "Please send them again in a minute" in page.content.decode()
    assert "Ça n&#x27;a pas marché — 😞" in page.content.decode()  # the answers are given back, not lost
    assert counts() == before
    assert Invitation.objects.get(pk=invite.invitation.pk).answered_at is None  # the link still works
    assert not member.customer.interactions.exists()  # no follow-up opened for a response that does not exist

    monkeypatch.undo()
    assert client.post(url, data).status_code == 302
    assert Response.objects.filter(invitation=invite.invitation).count() == 1
    assert Answer.objects.count() == 4


# --- the broker is down ---------------------------------------------------------------------------


@pytest.fixture
def broker_down():
    """The real Celery app (not eager), pointed at a port where nothing listens."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager", "broker_connection_timeout")}
    celery_app.conf.update(broker_url=CLOSED_PORT_BROKER, task_always_eager=False, broker_connection_timeout=1)
    _forget_connections()
    yield
    celery_app.conf.update(saved)
    _forget_connections()


def _forget_connections() -> None:
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def _welcome_automation() -> Automation:
    return automation(Automation.Kind.WELCOME)


def test_the_broker_being_down_does_not_lose_an_order_or_its_points(make_client, member, broker_down):
    with pytest.raises(Exception):  # noqa: B017 - any kombu/redis error: the point is that it is really down
        celery_app.send_task("core.tasks.run_job", kwargs={"name": "club.birthdays"})
    api = make_client("orders:write")
    body = order_body(member.customer, placed_at=timezone.now().isoformat())
    response = api.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-0002")
    assert response.status_code == 201, response.content
    # Committed (a transactional test): the order and the points it earned, in the same transaction.
    order = Order.objects.get(public_id=response.json()["id"])
    earned = PointsTransaction.objects.get(order=order)
    assert earned.points == 250 and Membership.objects.get(pk=member.pk).points_balance == 250
    assert not club_services.points_verify_balances().exists()


def test_work_queued_after_commit_while_the_broker_is_down_waits_for_the_dispatcher(
        make_client, club, broker_down, caplog, monkeypatch):
    """Enrolling through the API sends the welcome email through a Celery task queued after the
    commit. With the broker down the member is enrolled (201), the message stays queued, the
    failure is logged, and the dispatcher job queues it again once the broker is back."""
    _welcome_automation()
    customer = crm_services.customer_create(first_name="Nima", email="nima@example.com", email_opt_in=True,
                                            consent_source="test")
    api = make_client("club:write")
    with caplog.at_level(logging.ERROR):
        response = api.post("/api/v1/club/enroll/", {"customer": str(customer.public_id)}, format="json")
    assert response.status_code == 201, response.content
    assert Membership.objects.filter(customer=customer).exists()
    message = Message.objects.get(customer=customer, automation__kind=Automation.Kind.WELCOME)
    assert message.status == Message.Status.QUEUED
    assert any("could not queue" in record.getMessage() for record in caplog.records)

    # The broker is back: the dispatcher (a periodic job) queues the stalled message again.
    queued = []
    monkeypatch.setattr("campaigns.tasks.send_messages.delay", lambda ids: queued.append(ids))
    result = campaign_services.campaigns_dispatch(now=timezone.now() + timedelta(hours=1))
    assert result["requeued"] >= 1 and any(message.pk in ids for ids in queued)
