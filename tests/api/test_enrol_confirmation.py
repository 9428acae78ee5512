"""Club enrolment by an own-data-only key: a one-time code sent to the customer (api.enrolment, issue 16)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from api import services as api_services
from api.enrolment import MAX_TRIES
from api.models import EnrolConfirmation
from campaigns import sms
from campaigns.models import Automation, Message
from campaigns.selectors.reports import timeline_messages
from club import services as club_services
from club.models import Membership
from tests.api.helpers import assert_problem
from tests.campaigns.helpers import automation

pytestmark = pytest.mark.usefixtures("campaign_settings", "celery_eager", "tiers", "purchase_rule")

URL = "/api/v1/customers/"
ENROL = "/api/v1/club/enroll/"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture
def own(make_client):
    return make_client("customers:read", "customers:write", "club:read", "club:write", "coupons:redeem",
                       own_data_only=True)


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """POST club/enroll/ and send what it queued (the code's message), as a worker would."""
    def post(client, customer_id, *, headers=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(ENROL, {"customer": customer_id, **extra}, format="json", **(headers or {}))

    return post


@pytest.fixture(autouse=True)
def enrol_codes(db):
    """The "Club enrolment code" automation, as its migration made it (a transactional test may have flushed it)."""
    return automation(Automation.Kind.ENROL_CODE)


@pytest.fixture
def customer_elsewhere(db, other_partner):
    """A person another partner created, with their own phone and no SMS consent."""
    return api_services.partner_customer_create(
        partner=other_partner, email="parisa@example.com", phone="+989121234567", external_ref="OTHER-7",
        first_name="Parisa", city="Shiraz", sms_opt_in=False, email_opt_in=False)


def sent_code() -> str:
    return re.search(r"\b(\d{6})\b", sms.LocmemBackend.outbox[-1]["text"]).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** 6:06d}"


def test_the_code_enrols_a_person_who_was_not_in_the_club(own, ask, customer_elsewhere):
    pushed = own.post(URL, {"email": customer_elsewhere.email, "phone": "+989351112233"}, format="json").json()
    sent = ask(own, pushed["id"])
    assert sent.status_code == 202, sent.content
    assert set(sent.json()) == {"status", "channel", "expires_at"} and sent.json()["channel"] == "sms"
    assert not Membership.objects.filter(customer=customer_elsewhere).exists()  # nothing until the customer confirms

    confirmed = ask(own, pushed["id"], confirmation_code=sent_code())
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["balance"] == 0 and confirmed.json()["tier"] == "Bronze"
    assert Membership.objects.get(customer=customer_elsewhere).is_active
    for path in ("club/members/{}/", "club/members/{}/ledger/", "club/members/{}/offers/"):
        assert own.get("/api/v1/" + path.format(pushed["id"])).status_code == 200, path
    assert not EnrolConfirmation.objects.exists()  # used: gone


def test_the_code_lets_the_key_read_an_existing_membership(own, ask, make_member, offer, admin_user):
    member = make_member(email="member@example.com", phone="+989121234567")
    club_services.points_adjust(member=member, points=700, reason="gift", by=admin_user)
    coupon = club_services.offer_redeem(member=member, offer=offer)
    pushed = own.post(URL, {"email": "member@example.com", "phone": "+989351112233"}, format="json").json()
    validate = {"code": coupon.code, "order_value": "50", "customer": pushed["id"]}
    assert ask(own, pushed["id"]).status_code == 202
    assert own.post("/api/v1/coupons/validate/", validate, format="json").json()["reason"] == "unknown"

    confirmed = ask(own, pushed["id"], confirmation_code=sent_code())
    assert confirmed.status_code == 200 and confirmed.json()["balance"] == 600
    assert own.get(f"/api/v1/club/members/{pushed['id']}/").json()["balance"] == 600
    assert own.post("/api/v1/coupons/validate/", validate, format="json").json()["valid"] is True
    member.refresh_from_db()
    assert member.points_balance == 600 and member.status == "active"


def test_a_customer_the_key_created_is_enrolled_with_the_code_too(own, ask):
    created = own.post(URL, {"phone": "+989351112233", "first_name": "Sara"}, format="json").json()
    assert ask(own, created["id"]).status_code == 202
    assert own.get(f"/api/v1/club/members/{created['id']}/").status_code == 404
    assert ask(own, created["id"], confirmation_code=sent_code()).status_code == 201
    assert own.get(f"/api/v1/club/members/{created['id']}/").status_code == 200
    # Enrolling again: a code again (the answer never says "already a member"), and the code gives 200.
    assert ask(own, created["id"]).status_code == 202
    assert ask(own, created["id"], confirmation_code=sent_code()).status_code == 200


def test_the_code_goes_to_the_contact_the_key_sent_whatever_the_consents(own, ask, customer_elsewhere):
    # The person has another phone on record, and no SMS consent; the key gave its own number.
    pushed = own.post(URL, {"email": customer_elsewhere.email, "phone": "+98 935 111 2233"}, format="json").json()
    assert ask(own, pushed["id"]).status_code == 202
    [message] = sms.LocmemBackend.outbox
    assert message["to"] == "+989351112233"
    assert customer_elsewhere.first_name not in message["text"] and "Shiraz" not in message["text"]
    row = Message.objects.get(customer=customer_elsewhere, automation__kind=Automation.Kind.ENROL_CODE)
    assert row.status == Message.Status.SENT and row.to_address == "+989351112233" and not row.is_marketing
    # The staff timeline shows it, as every message the customer was sent.
    [entry] = [entry for entry in timeline_messages(customer_elsewhere, limit=10) if "enrolment" in entry.title]
    assert "+989351112233" in entry.detail


def test_an_email_goes_to_the_email_the_key_sent(own, ask, customer_elsewhere, mailoutbox):
    pushed = own.post(URL, {"external_ref": customer_elsewhere.external_ref, "email": "till@example.com"},
                      format="json").json()
    sent = ask(own, pushed["id"])
    assert sent.status_code == 202 and sent.json()["channel"] == "email"
    [email] = mailoutbox
    assert email.to == ["till@example.com"] and "List-Unsubscribe" not in email.extra_headers
    code = re.search(r"\b(\d{6})\b", email.subject).group(1)
    assert "unsubscribe" not in email.alternatives[0][0].lower()
    assert ask(own, pushed["id"], confirmation_code=code).status_code == 201


def test_the_message_is_in_the_language_the_key_gave(own, ask):
    created = own.post(URL, {"phone": "+989351112233", "language": "fa"}, format="json").json()
    ask(own, created["id"])
    text = sms.LocmemBackend.outbox[-1]["text"]
    assert "کد عضویت باشگاه" in text
    assert ask(own, created["id"], confirmation_code=sent_code()).status_code == 201


def test_a_key_that_gave_no_phone_or_email_is_told_so_and_nothing_is_sent(own, ask, customer_elsewhere):
    pushed = own.post(URL, {"external_ref": customer_elsewhere.external_ref}, format="json").json()
    body = assert_problem(ask(own, pushed["id"]), 400)
    assert "customer" in body["errors"] and "phone" in body["detail"] and "email" in body["detail"]
    assert not EnrolConfirmation.objects.exists() and not Message.objects.filter(automation__kind="enrol_code").exists()
    assert sms.LocmemBackend.outbox == []


def test_the_code_is_kept_only_as_a_hash_and_forgotten_by_the_message_once_sent(own, ask):
    created = own.post(URL, {"phone": "+989351112233"}, format="json").json()
    ask(own, created["id"])
    code = sent_code()
    row = EnrolConfirmation.objects.get()
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64
    message = Message.objects.get(automation__kind=Automation.Kind.ENROL_CODE)
    assert "confirmation_code" not in message.context and code not in str(message.context)


def test_persian_and_arabic_digits_are_read(own, ask):
    created = own.post(URL, {"phone": "+989351112233"}, format="json").json()
    ask(own, created["id"])
    assert ask(own, created["id"], confirmation_code=" ".join(sent_code().translate(PERSIAN))).status_code == 201


def test_a_wrong_code_enrols_nobody_and_five_wrong_tries_void_it(own, ask, customer_elsewhere):
    pushed = own.post(URL, {"email": customer_elsewhere.email, "phone": "+989351112233"}, format="json").json()
    ask(own, pushed["id"])
    code = sent_code()
    for attempt in range(1, MAX_TRIES):
        # An Idempotency-Key rolls an error answer's writes back: the try is counted all the same.
        body = assert_problem(ask(own, pushed["id"], confirmation_code=wrong(code),
                                  headers={"HTTP_IDEMPOTENCY_KEY": f"try-{attempt}"}), 400)
        assert body["type"].endswith("/confirmation_code_invalid") and f"{MAX_TRIES - attempt} tr" in body["detail"]
    assert not Membership.objects.filter(customer=customer_elsewhere).exists()
    void = ask(own, pushed["id"], confirmation_code=wrong(code))
    assert assert_problem(void, 429)["type"].endswith("/confirmation_code_attempts_exceeded")
    assert int(void["Retry-After"]) >= 1
    # Void: even the right code no longer works.
    assert ask(own, pushed["id"], confirmation_code=code).status_code == 429
    assert not Membership.objects.filter(customer=customer_elsewhere).exists()


def test_an_expired_code_enrols_nobody(own, ask, customer_elsewhere):
    pushed = own.post(URL, {"email": customer_elsewhere.email, "phone": "+989351112233"}, format="json").json()
    ask(own, pushed["id"])
    EnrolConfirmation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    body = assert_problem(ask(own, pushed["id"], confirmation_code=sent_code()), 400)
    assert body["type"].endswith("/confirmation_code_expired")
    assert not Membership.objects.filter(customer=customer_elsewhere).exists()


def test_no_code_sent_is_a_wrong_code(own, ask):
    created = own.post(URL, {"phone": "+989351112233"}, format="json").json()
    body = assert_problem(ask(own, created["id"], confirmation_code="123456"), 400)
    assert body["type"].endswith("/confirmation_code_invalid")
    assert assert_problem(ask(own, created["id"], confirmation_code="12345"), 400)["errors"]["confirmation_code"]


def test_a_new_code_is_sent_at_most_once_a_minute_and_replaces_the_old_one(own, ask):
    created = own.post(URL, {"phone": "+989351112233"}, format="json").json()
    ask(own, created["id"])
    first = sent_code()
    too_soon = ask(own, created["id"])
    assert assert_problem(too_soon, 429)["type"].endswith("/confirmation_resend_too_soon")
    assert 1 <= int(too_soon["Retry-After"]) <= 60 and len(sms.LocmemBackend.outbox) == 1
    EnrolConfirmation.objects.update(sent_at=timezone.now() - timedelta(seconds=61))
    assert ask(own, created["id"]).status_code == 202
    second = sent_code()
    assert EnrolConfirmation.objects.count() == 1
    if second != first:
        assert ask(own, created["id"], confirmation_code=first).status_code == 400
    assert ask(own, created["id"], confirmation_code=second).status_code == 201


def test_a_code_is_the_keys_own(own, ask, make_client, other_partner, customer_elsewhere):
    other = make_client("customers:write", "club:write", own_data_only=True)  # another key of the same partner
    pushed = own.post(URL, {"email": customer_elsewhere.email, "phone": "+989351112233"}, format="json").json()
    ask(own, pushed["id"])
    code = sent_code()
    theirs = pushed
    assert assert_problem(ask(other, theirs["id"], confirmation_code=code), 400)["type"].endswith(
        "/confirmation_code_invalid")


def test_turned_off_codes_are_a_conflict_that_names_the_automation(own, ask):
    Automation.objects.filter(kind=Automation.Kind.ENROL_CODE).update(enabled=False)
    created = own.post(URL, {"phone": "+989351112233"}, format="json").json()
    body = assert_problem(ask(own, created["id"]), 409)
    assert body["type"].endswith("/confirmation_unavailable") and not EnrolConfirmation.objects.exists()


def test_a_full_access_key_still_enrols_directly(make_client, ask, customer_elsewhere):
    client = make_client("club:write", "club:read")
    first = ask(client, str(customer_elsewhere.public_id), confirmation_code="123456")
    assert first.status_code == 201 and first.json()["member_number"]
    assert ask(client, str(customer_elsewhere.public_id)).status_code == 200
    assert sms.LocmemBackend.outbox == [] and not EnrolConfirmation.objects.exists()


def test_a_code_that_could_not_be_sent_is_not_kept_in_the_message(own, ask, monkeypatch):
    def refused(self, to_e164, text, idempotency_key):
        raise sms.PermanentSmsError("refused by the operator")

    monkeypatch.setattr(sms.LocmemBackend, "send", refused)
    created = own.post(URL, {"phone": "+989351112233"}, format="json").json()
    assert ask(own, created["id"]).status_code == 202  # queued: the sending happens after the answer
    message = Message.objects.get(automation__kind=Automation.Kind.ENROL_CODE)
    assert message.status == Message.Status.FAILED and "confirmation_code" not in message.context


def test_a_key_may_have_only_so_many_codes_sent(own, ask, settings):
    settings.API_ENROL_CODE_RATE = "2/hour"
    people = [own.post(URL, {"phone": f"+98935111223{n}"}, format="json").json()["id"] for n in range(3)]
    assert [ask(own, person).status_code for person in people[:2]] == [202, 202]
    refused = ask(own, people[2])
    assert assert_problem(refused, 429)["type"].endswith("/enrol_code_rate")
    assert "API_ENROL_CODE_RATE" in refused.json()["detail"] and int(refused["Retry-After"]) > 0
    assert len(sms.LocmemBackend.outbox) == 2 and EnrolConfirmation.objects.count() == 2  # nothing sent or stored
    # A code or a card the customer gives is not a new message: it is not held back.
    assert ask(own, people[1], confirmation_code=sent_code()).status_code == 201
