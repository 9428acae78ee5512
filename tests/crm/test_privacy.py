"""Export and erasure of a customer (issue 8): everything held comes out; after erasure nothing personal remains."""

import io
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.db.models import Sum
from django.urls import reverse

from campaigns.models import InboundSms, Message, Suppression
from campaigns.selectors import is_suppressed
from club import services as club
from club.models import EarningRule, Membership, Offer, Tier
from core import audit
from crm import privacy, services
from crm.models import Customer, ErasureEvent
from crm.services import LineInput
from feedback.models import Question, Survey
from feedback.services import returns as feedback_returns
from tests.helpers import member_since
from feedback.services import surveys as feedback_surveys

NAME = ("Sara", "Ahmadi")
EMAIL = "sara@example.com"
PHONE = "+989121234567"
FREE_TEXT = (
    "Called about the broken grinder",
    "She lives at 12 Rose Street",
    "Prefers oat milk",
    "Goodwill gesture grinder",
    "The barista Reza was rude",
    "Box arrived crushed at my flat",
    "Lid was cracked badly",
    "STOP from Sara",
    "Shiraz",
    "SHOP-SARA-1",
)
NEEDLES = (*NAME, EMAIL, PHONE, PHONE[3:], *FREE_TEXT)


@pytest.fixture
def sara(customer, admin_user, place_order):
    """Sara with something in every app: consent, notes, interactions, a membership with points,
    a coupon and a referral, a survey answer, a return, a message, an inbound SMS and an admin log entry."""
    services.customer_update(customer=customer, values={
        "external_ref": "SHOP-SARA-1", "city": "Shiraz", "notes": "Prefers oat milk", "email_opt_in": True,
        "birth_date": "1990-04-02",
    }, tags=["VIP"], by=admin_user)
    Tier.objects.create(name="Bronze", rank=1, threshold=0)
    EarningRule.objects.create(name="Purchase", kind=EarningRule.Kind.PURCHASE, points_per_unit=Decimal("1"))
    EarningRule.objects.create(name="Referral", kind=EarningRule.Kind.REFERRAL, points=100, referee_points=20)
    referrer = club.member_enroll(customer=services.customer_create(first_name="Rita", email="rita@example.com"))
    club.referral_create(referrer=referrer, referred=customer)
    member = member_since(club.member_enroll(customer=customer))
    order = place_order(customer, total="300.00", lines=[
        LineInput(sku="BEANS", product_name="Beans", quantity=2, unit_price=Decimal("100")),
        LineInput(sku="MUG", product_name="Mug", quantity=1, unit_price=Decimal("100")),
    ])
    club.points_adjust(member=member, points=50, reason="Goodwill gesture grinder", by=admin_user)
    offer = Offer.objects.create(title="10% off", kind=Offer.Kind.PERCENT, value=Decimal("10"), points_cost=100)
    club.offer_redeem(member=member, offer=offer)
    services.interaction_log(customer=customer, subject="Called about the broken grinder",
                             body="She lives at 12 Rose Street", staff=admin_user)

    survey = Survey.objects.create(title="How did we do?", kind=Survey.Kind.NPS)
    nps = Question.objects.create(survey=survey, position=1, type=Question.Type.NPS, scores=Question.Score.NPS, text="Recommend?")
    text = Question.objects.create(survey=survey, position=2, type=Question.Type.LONG_TEXT, text="Anything else?", required=False)
    invitation = feedback_surveys.invitation_create(survey=survey, customer=customer, order=order).invitation
    feedback_surveys.response_submit(survey=survey, invitation=invitation,
                                     answers={nps: 3, text: "The barista Reza was rude"})
    mug = order.lines.get(sku="MUG")
    feedback_returns.return_request_create(
        order=order, note="Box arrived crushed at my flat", by=admin_user,
        lines=[feedback_returns.LineRequest(order_line_id=mug.pk, quantity=1, reason="damaged", note="Lid was cracked badly")],
    )
    Message.objects.create(customer=customer, channel="email", status=Message.Status.SENT, to_address=EMAIL,
                           context={"first_name": "Sara", "note": "Prefers oat milk"})
    Message.objects.create(customer=customer, channel="sms", status=Message.Status.QUEUED, to_address=PHONE)
    InboundSms.objects.create(from_number=PHONE, text="STOP from Sara")
    LogEntry.objects.log_actions(user_id=admin_user.pk, queryset=[customer], action_flag=CHANGE,
                                 change_message=[{"changed": {"fields": ["First name"]}}], single_object=True)
    LogEntry.objects.log_actions(user_id=admin_user.pk, queryset=[member], action_flag=CHANGE,
                                 change_message="", single_object=True)  # "<member number> Sara Ahmadi"
    customer.refresh_from_db()
    return customer


def text_values_everywhere():
    """Every value of every text-like column (char, text, email, phone, JSON) of every table."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [field.attname for field in model._meta.concrete_fields
                  if isinstance(field, (models.CharField, models.TextField, models.JSONField))]
        if not fields:
            continue
        for row in model._base_manager.values_list(*fields):
            for field, value in zip(fields, row):
                if value not in (None, "", {}, []):
                    yield f"{model._meta.label}.{field}", json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value


def hits(needles, values):
    return [(where, needle) for where, value in values for needle in needles if needle.lower() in str(value).lower()]


def test_it_exports_everything_held_about_a_customer(sara):
    document = privacy.customer_export(sara)

    assert json.loads(json.dumps(document)) == document
    assert document["customer"]["email"] == EMAIL and document["customer"]["phone"] == PHONE
    assert document["customer"]["tags"] == ["VIP"]
    assert [change["channel"] for change in document["consent_changes"]] == ["email"]
    subjects = [item["subject"] for item in document["interactions"]]
    assert "Called about the broken grinder" in subjects
    assert [line["sku"] for line in document["orders"][0]["lines"]] == ["BEANS", "MUG"]
    assert document["club"]["membership"]["member_number"] == sara.membership.member_number
    assert sum(row["points"] for row in document["club"]["ledger"]) == sara.membership.points_balance
    assert len(document["club"]["coupons"]) == 1
    assert document["feedback"]["invitations"][0]["answered_at"]
    assert "token" not in json.dumps(document["feedback"]["invitations"])
    assert {"question": "Anything else?", "number": None, "text": "The barista Reza was rude", "choices": []} in \
        document["feedback"]["responses"][0]["answers"]
    assert document["feedback"]["returns"][0]["note"] == "Box arrived crushed at my flat"
    assert {message["to_address"] for message in document["campaigns"]["messages"]} == {EMAIL, PHONE}


def test_the_export_holds_the_change_history_and_the_access_log(sara, admin_user, client):
    client.force_login(admin_user)
    client.get(reverse("admin:crm_customer_change", args=[sara.pk]))  # a staff view, logged

    document = privacy.customer_export(sara)

    objects = {entry["object"].split(" ")[0] for entry in document["history"]}
    assert {"Customer", "Membership", "Coupon", "Return"} <= objects
    city = [change for entry in document["history"] if entry["action"] == "changed"
            for change in entry["changes"] if change["field"] == "city"]
    assert [change["after"] for change in city] == ["Shiraz"]
    assert [entry["at"] for entry in document["history"]] == sorted(entry["at"] for entry in document["history"])
    assert document["access_log"] == [
        {"at": document["access_log"][0]["at"], "action": "viewed", "by": admin_user.get_username(), "source": "admin"}
    ]


def test_it_finds_a_customer_by_public_id_email_or_external_ref(sara):
    for ref in (str(sara.public_id), EMAIL.upper(), "SHOP-SARA-1"):
        assert privacy.customer_find(ref) == sara
    with pytest.raises(Customer.DoesNotExist):
        privacy.customer_find("nobody@example.com")


def test_the_export_command_writes_the_json_to_a_file(sara, tmp_path):
    target = tmp_path / "sara.json"
    call_command("export_customer", EMAIL, "--output", str(target))

    assert json.loads(target.read_text())["customer"]["public_id"] == str(sara.public_id)
    assert target.stat().st_mode & 0o077 == 0


def test_the_export_command_refuses_an_unknown_customer_with_exit_code_1(db):
    with pytest.raises(CommandError, match="No customer") as error:
        call_command("export_customer", "nobody@example.com")
    assert error.value.returncode == 1


def test_after_erasure_nothing_personal_remains_and_the_figures_stay(sara, admin_user):
    orders_before = (sara.orders_count, sara.total_spent)
    ledger_before = Membership.objects.aggregate(points=Sum("transactions__points"))["points"]
    balances_before = dict(Membership.objects.values_list("pk", "points_balance"))
    refunds_before = list(sara.return_requests.values_list("refund_amount", flat=True))
    planted = {where.split(".")[0] + "." + where.split(".")[1] for where, _needle in hits(NEEDLES, text_values_everywhere())}
    # The audit history holds earlier versions of the profile and the return: searched like every other table.
    assert {"crm.HistoricalCustomer", "feedback.HistoricalReturnRequest"} <= planted, "the fixture must plant the needles"

    event = privacy.customer_erase(customer=sara, by=admin_user)

    assert hits(NEEDLES, text_values_everywhere()) == []
    export = json.dumps(privacy.customer_export(Customer.objects.get(pk=sara.pk)), ensure_ascii=False)
    assert hits(NEEDLES, [("export", export)]) == []
    sara.refresh_from_db()
    assert (sara.orders_count, sara.total_spent) == orders_before
    assert Membership.objects.aggregate(points=Sum("transactions__points"))["points"] == ledger_before
    assert dict(Membership.objects.values_list("pk", "points_balance")) == balances_before
    assert list(sara.return_requests.values_list("refund_amount", flat=True)) == refunds_before
    assert not sara.email_opt_in and not sara.sms_opt_in
    assert sara.external_ref.startswith("erased-") and sara.email is None and sara.phone is None
    assert is_suppressed(email=EMAIL) and is_suppressed(phone=PHONE)
    assert Suppression.objects.filter(reason=Suppression.Reason.ERASED).count() == 2
    assert not Message.objects.filter(customer=sara, status=Message.Status.QUEUED).exists()
    assert (event.erased_by, event.customer) == (admin_user, sara)
    # The history still says who changed what and when (the erasure included), with nothing personal.
    erasure = audit.customer_history(sara)[0]
    assert erasure.reason.startswith("erasure") and erasure.label == "Customer"
    assert [change.field for change in erasure.changes] == ["external_ref"]
    assert Customer.history.filter(id=sara.pk).count() >= 3


def test_a_customer_is_erased_once(sara):
    privacy.customer_erase(customer=sara, by=None)
    with pytest.raises(ValidationError):
        privacy.customer_erase(customer=sara, by=None)


def test_the_erase_command_asks_for_confirmation_unless_told_yes(sara, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal
    with pytest.raises(CommandError, match="--yes"):
        call_command("erase_customer", EMAIL)
    monkeypatch.setattr("sys.stdin", type("Tty", (io.StringIO,), {"isatty": lambda self: True})("no\n"))
    with pytest.raises(CommandError, match="Not erased"):
        call_command("erase_customer", EMAIL)
    assert not ErasureEvent.objects.exists()

    out = io.StringIO()
    call_command("erase_customer", EMAIL, "--yes", stdout=out)
    assert ErasureEvent.objects.filter(customer=sara).exists()
    with pytest.raises(CommandError, match="No customer"):
        call_command("erase_customer", EMAIL, "--yes")


def _post_action(client, action, customer, **extra):
    return client.post(reverse("admin:crm_customer_changelist"),
                       {"action": action, "_selected_action": [customer.pk], **extra})


def test_the_admin_export_action_downloads_the_json(client, admin_user, sara):
    client.force_login(admin_user)
    response = _post_action(client, "export_customer_data", sara)

    assert response["Content-Type"] == "application/json"
    assert f"customer-{sara.public_id}.json" in response["Content-Disposition"]
    assert json.loads(response.content)["customer"]["email"] == EMAIL


def test_the_admin_erase_action_confirms_first_then_erases(client, admin_user, sara):
    client.force_login(admin_user)
    page = _post_action(client, "erase_customers", sara)
    assert page.status_code == 200 and b"cannot be undone" in page.content
    assert not ErasureEvent.objects.exists()

    _post_action(client, "erase_customers", sara, confirm="yes")
    assert ErasureEvent.objects.get().erased_by == admin_user


def test_only_users_with_the_erase_permission_get_the_erase_action(client, support_user, sara):
    client.force_login(support_user)
    _post_action(client, "erase_customers", sara, confirm="yes")
    assert not ErasureEvent.objects.exists()
    assert "erase_customers" not in client.get(reverse("admin:crm_customer_changelist")).content.decode()

    support_user.user_permissions.add(Permission.objects.get(
        codename="erase_customer", content_type=ContentType.objects.get_for_model(Customer)))
    support_user = type(support_user).objects.get(pk=support_user.pk)
    client.force_login(support_user)
    _post_action(client, "erase_customers", sara, confirm="yes")
    assert ErasureEvent.objects.filter(customer=sara, erased_by=support_user).exists()
