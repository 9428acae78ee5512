from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Message
from club import services as club_services
from club.models import Coupon, EarningRule
from crm.services import LineInput
from core.direction import LRI, PDI
from core.tasks import run_job
from feedback.models import Invitation, Question, Survey
from feedback.services import invitation_create
from tests.campaigns.helpers import automation
from tests.factories import ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def today() -> date:
    return timezone.localdate()


def run(name: str, day: date, capture):
    with capture(execute=True):
        return run_job.apply(kwargs={"name": name, "date_iso": day.isoformat()}).get()


# --- win-back ---------------------------------------------------------------------------------


def test_win_back_reaches_customers_whose_last_order_was_n_days_ago_once(customers, place_order,
                                                                          django_capture_on_commit_callbacks):
    automation("win_back", days=60)
    lapsed, recent, older = customers(first_name="Lapsed"), customers(), customers()
    place_order(lapsed, days_ago=60.2)
    place_order(recent, days_ago=20)
    place_order(older, days_ago=200)
    for _ in range(2):
        run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
    assert [email.to for email in mail.outbox] == [[lapsed.email]]
    assert mail.outbox[0].subject == "We miss you, Lapsed"
    assert Message.objects.get().is_marketing and "List-Unsubscribe" in mail.outbox[0].extra_headers


def test_win_back_respects_the_cooldown(customers, place_order, django_capture_on_commit_callbacks):
    automation("win_back", days=60, cooldown_days=90)
    customer = customers()
    place_order(customer, days_ago=60.2)
    run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
    # They come back, then lapse again: 60 days later is within the 90-day cooldown of the first message.
    with time_machine.travel(timezone.now() + timedelta(days=61)):
        place_order(customer, days_ago=60.1)
        run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
        assert Message.objects.count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=150)):
        place_order(customer, days_ago=60.1)
        run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
        assert Message.objects.count() == 2


def test_win_back_ab_subjects_and_a_coupon_for_members(customers, place_order, club, django_capture_on_commit_callbacks):
    automation("win_back", days=60, offer=club["offer"])
    people = [customers(first_name=f"P{index}") for index in range(4)]
    for customer in people:
        club_services.member_enroll(customer=customer)
        place_order(customer, days_ago=60.2)
    run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
    assert Counter(Message.objects.values_list("variant", flat=True)) == {"A": 2, "B": 2}
    subjects = Counter("A" if email.subject.startswith("We miss you") else "B" for email in mail.outbox)
    assert subjects == {"A": 2, "B": 2} and any("welcome you back" in email.subject for email in mail.outbox)
    assert Coupon.objects.filter(kind="campaign").count() == 4
    assert all(club_services.coupon_code_format(coupon.code) in "".join(email.body for email in mail.outbox)
               for coupon in Coupon.objects.all())


def test_win_back_skips_without_consent_and_over_the_cap_and_records_why(customers, place_order, settings,
                                                                           django_capture_on_commit_callbacks):
    settings.CAMPAIGNS_FREQUENCY_CAP = 1
    automation("win_back", days=60)
    no_consent, capped = customers(email_opt_in=False), customers()
    Message.objects.create(customer=capped, channel="email", is_marketing=True, status=Message.Status.SENT)
    for customer in (no_consent, capped):
        place_order(customer, days_ago=60.2)
    run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
    run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
    skipped = dict(Message.objects.filter(automation__kind="win_back").values_list("customer", "skip_reason"))
    assert skipped == {no_consent.pk: "no_consent", capped.pk: "frequency_cap"}
    assert mail.outbox == []


def test_a_disabled_automation_sends_nothing(customers, place_order, django_capture_on_commit_callbacks):
    automation("win_back", enabled=False)
    place_order(customers(), days_ago=60.2)
    assert run("campaigns.win_back", today(), django_capture_on_commit_callbacks) == {"automations": 0}
    assert not Message.objects.exists()


# --- replenishment ----------------------------------------------------------------------------


def test_replenishment_reminds_when_due_unless_bought_again(customers, place_order, django_capture_on_commit_callbacks):
    automation("replenishment", days=3)
    beans = ProductFactory(sku="BEANS", name="Coffee beans", replenishment_days=30)
    ProductFactory(sku="MUG", name="Mug")
    due, rebought, mug_only = customers(first_name="Due"), customers(), customers()
    line = LineInput(sku="BEANS", product_name="Coffee beans", unit_price=Decimal("20"))
    place_order(due, days_ago=27.1, lines=[line])  # due in 3 days
    place_order(rebought, days_ago=27.1, lines=[line])
    place_order(rebought, days_ago=5, lines=[line])  # bought it again
    place_order(mug_only, days_ago=27.1, lines=[LineInput(sku="MUG", product_name="Mug", unit_price=Decimal("5"))])
    for _ in range(2):
        run("campaigns.replenishment", today(), django_capture_on_commit_callbacks)
    assert [email.to for email in mail.outbox] == [[due.email]]
    assert "Coffee beans" in mail.outbox[0].body
    assert beans.replenishment_days == 30


# --- post-purchase and survey invitations -----------------------------------------------------


def test_post_purchase_thanks_once_per_fulfilled_order(customers, place_order, django_capture_on_commit_callbacks):
    automation("post_purchase", days=1)
    customer = customers(first_name="Omid")
    order = place_order(customer, days_ago=1)
    for _ in range(2):
        run("campaigns.post_purchase", today(), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == f"Thank you for your order {order.order_number}"
    assert not Message.objects.get().is_marketing


@pytest.fixture
def survey(db):
    survey = Survey.objects.create(title="How did we do?", kind=Survey.Kind.NPS, trigger=Survey.Trigger.MANUAL)
    Question.objects.create(survey=survey, position=1, type=Question.Type.NPS, scores=Question.Score.NPS, text="Recommend us?")
    return survey


def test_an_order_invitation_is_sent_with_its_link_and_marked_sent(customers, place_order, survey,
                                                                    django_capture_on_commit_callbacks):
    automation("post_purchase", days=1)
    customer = customers(language="fa")
    order = place_order(customer, days_ago=0)
    with django_capture_on_commit_callbacks(execute=True):
        new = invitation_create(survey=survey, customer=customer, order=order)
    email = mail.outbox[0]
    assert f"https://crm.example.com/f/{new.token}/" in email.alternatives[0][0]
    assert email.subject == f"از سفارش {LRI}{order.order_number}{PDI} شما سپاسگزاریم"  # a left-to-right island
    assert Invitation.objects.get(pk=new.invitation.pk).sent_at is not None
    message = Message.objects.get()
    assert message.occasion == f"order:{order.pk}" and "survey_url" not in message.context  # the raw token is forgotten
    # The daily thank-you later finds the order already thanked.
    run("campaigns.post_purchase", today() + timedelta(days=1), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_an_invitation_without_consent_stays_unsent(customers, survey, django_capture_on_commit_callbacks):
    customer = customers(email_opt_in=False)
    with django_capture_on_commit_callbacks(execute=True):
        new = invitation_create(survey=survey, customer=customer)
    assert mail.outbox == [] and Invitation.objects.get(pk=new.invitation.pk).sent_at is None
    assert Message.objects.get().skip_reason == "no_consent"


# --- the club's messages ----------------------------------------------------------------------


def test_welcome_goes_once_when_a_customer_joins(customers, club, django_capture_on_commit_callbacks):
    customer = customers(first_name="Nima")
    with django_capture_on_commit_callbacks(execute=True):
        member = club_services.member_enroll(customer=customer)
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Welcome to the club, Nima!"
    assert member.member_number in mail.outbox[0].body
    club_services.notice_send_once(member_id=member.pk, kind="welcome", keys=["welcome"], context={})
    assert Message.objects.filter(automation__kind="welcome").count() == 1


def test_the_birthday_message_carries_the_coupon_and_ignores_the_cap(customers, club, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.CAMPAIGNS_FREQUENCY_CAP = 1
    customer = customers(first_name="Leila", birth_date=date(1990, 3, 10))
    member = club_services.member_enroll(customer=customer)
    EarningRule.objects.create(name="Birthday bonus", kind="birthday", points=100)
    Message.objects.create(customer=customer, channel="email", is_marketing=True, status=Message.Status.SENT)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("run_job", "club.birthdays", "--date", "2025-03-10", stdout=StringIO())
    coupon = Coupon.objects.get(member=member, kind="birthday")
    birthday_emails = [email for email in mail.outbox if "birthday" in email.subject]
    assert len(birthday_emails) == 1 and club_services.coupon_code_format(coupon.code) in birthday_emails[0].body
    assert "100 points" in birthday_emails[0].body
    assert Message.objects.get(automation__kind="birthday").is_marketing is False


def test_points_expiry_warning_is_sent_once(customers, club, settings, django_capture_on_commit_callbacks):
    settings.CLUB_EXPIRY_WARNING_DAYS = 14
    customer = customers(email_opt_in=False, sms_opt_in=True)
    member = club_services.member_enroll(customer=customer)
    earned = timezone.now() - timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS - 10)
    club_services.points_award(member=member, points=300, source="event", reason="promo", idempotency_key="promo", at=earned)
    for _ in range(2):
        run("club.points_expiry", today(), django_capture_on_commit_callbacks)
    from campaigns.sms import LocmemBackend

    warnings = [entry for entry in LocmemBackend.outbox if "expire" in entry["text"]]
    assert len(warnings) == 1 and "300 points expire on" in warnings[0]["text"]


def test_every_automation_job_is_registered_for_run_job():
    out = StringIO()
    call_command("run_job", "--list", stdout=out)
    for name in ("campaigns.win_back", "campaigns.replenishment", "campaigns.post_purchase", "campaigns.dispatch",
                 "campaigns.conversions"):
        assert name in out.getvalue()


def test_a_win_back_email_says_picked_for_you_with_each_customers_own_products(customers, place_order,
                                                                             django_capture_on_commit_callbacks):
    """Issue 19's "done means": a marketer writes "Picked for you: {{ recommendations }}" into the win-back email."""
    from tests.factories.recommendations import give_picks, product  # noqa: PLC0415 - the picks' own factory

    automation("win_back", days=60, body_en="<p>Picked for you:</p>{% if recommendations %}{{ recommendations }}{% endif %}")
    sara, nima = customers(first_name="Sara"), customers(first_name="Nima")
    for person in (sara, nima):
        place_order(person, days_ago=60.2)
    give_picks(sara, product("FILT", "Paper filters", price="4"), product("GRIND", "Hand grinder", price="80"))
    give_picks(nima, product("TEA", "Green tea", price="9"))
    run("campaigns.win_back", today(), django_capture_on_commit_callbacks)
    bodies = {email.to[0]: email.alternatives[0][0] for email in mail.outbox}
    assert "Paper filters" in bodies[sara.email] and "Hand grinder" in bodies[sara.email]
    assert "Green tea" in bodies[nima.email] and "Paper filters" not in bodies[nima.email]
