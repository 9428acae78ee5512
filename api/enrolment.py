"""Club enrolment through the API (POST club/enroll/), and the one-time code an own-data-only key needs.

A key that sees every customer enrols directly: 201 and the new membership, 200 and the existing one.

An own-data-only key (issue 16: no key learns anything about data that is not its own) never learns from
the answer whether the person it names is a member, or was in the CRM before it pushed them:
- without `member_number` and `confirmation_code`, whoever the person is (one it created, one that existed
  elsewhere, a member or not), a 6-digit one-time code is sent to the customer and the answer is always 202
  `{"status": "confirmation_sent", "channel", "expires_at"}`. The code goes to the phone, else the email,
  that the key itself gave for the person (its view of them, or the customer as it created or sees them),
  never to a contact the key did not send; with neither, 400 names what is missing. It is kept only as an
  HMAC (api.models.EnrolConfirmation, one row per key and customer, replaced by a new code), is valid
  CODE_TTL, allows MAX_TRIES tries and is sent again at most once per RESEND_AFTER (429 and Retry-After).
  The message is the transactional "Club enrolment code" automation, addressed to that contact whatever the
  consents (campaigns.services.addressed), in the customer's language as the key knows it;
- with `confirmation_code` (the code the customer read out), the answer is what a full-access key gets:
  201 and the new membership, or 200 and the existing one, and from then on the key reads that membership
  (api.scoping.VIEW_CLUB). A wrong code is 400 `confirmation_code_invalid` (with the tries left), an expired
  one 400 `confirmation_code_expired`, and the MAX_TRIES-th wrong try voids the code: 429
  `confirmation_code_attempts_exceeded` until a new one is sent. Nothing else is written;
- with `member_number` (the card shown at the till), an existing member's right number is 200 and the
  membership, as before; a wrong number and any number for a person who is not a member get the same
  400 `member_number_invalid`, so a number tells nothing either.
"""

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext, ngettext
from rest_framework import exceptions, status

from api.models import ApiKey, EnrolConfirmation, PartnerCustomer
from api.scoping import VIEW_CLUB
from campaigns import services as campaigns_services
from campaigns.models import Automation, Channel
from campaigns.sms import PermanentSmsError, normalize_e164
from club import services as club_services
from club.codes import member_number_normalize
from club.exceptions import Conflict
from club.selectors import membership_for
from crm.models import Customer

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)


class ConfirmationCodeInvalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "confirmation_code_invalid"


class ConfirmationCodeExpired(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "confirmation_code_expired"


class MemberNumberInvalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "member_number_invalid"


class ConfirmationThrottled(exceptions.Throttled):
    """429 with Retry-After (`wait` seconds) and our own message and code."""

    def __init__(self, *, wait: float, detail: str, code: str):
        exceptions.APIException.__init__(self, detail, code)
        self.wait = max(1, math.ceil(wait))


class ConfirmationUnavailable(Conflict):
    code = "confirmation_unavailable"


@dataclass(frozen=True)
class EnrolOutcome:
    created: bool = False  # the membership is new (or active again)
    confirmation: EnrolConfirmation | None = None  # a code was sent instead: nobody is enrolled yet


def partner_club_enrol(*, key: ApiKey, customer: Customer, member_number: str = "", confirmation_code: str = "",
                       claimed: bool = False) -> EnrolOutcome:
    """club/enroll/ (see the module). `claimed`: confirmation_try_claim counted this request's try."""
    if not key.own_data_only:
        return EnrolOutcome(created=_enrol(customer))
    if confirmation_code:
        return EnrolOutcome(created=_enrol_confirmed(key, customer, confirmation_code, claimed=claimed))
    if member_number:
        return EnrolOutcome(created=_enrol_with_card(key, customer, member_number))
    return EnrolOutcome(confirmation=confirmation_send(key=key, customer=customer))


def confirmation_try_claim(*, key: ApiKey, customer: Customer) -> bool:
    """Count one try of the key's code for the customer, committed on its own before the request's work
    (whose writes an error answer rolls back): False when there is no code, or its tries are spent."""
    with transaction.atomic():
        return bool(EnrolConfirmation.objects.filter(api_key=key, customer=customer, tries__lt=MAX_TRIES)
                    .update(tries=F("tries") + 1))


def confirmation_send(*, key: ApiKey, customer: Customer) -> EnrolConfirmation:
    """A new one-time code for the customer, sent to the contact the key gave (see the module)."""
    with transaction.atomic():
        link = (PartnerCustomer.objects.select_for_update()
                .filter(partner_id=key.partner_id, customer=customer).first())
        channel, address, language = _contact(customer, link)
        now = timezone.now()
        row = EnrolConfirmation.objects.select_for_update().filter(api_key=key, customer=customer).first()
        if row is not None and now < row.sent_at + RESEND_AFTER:
            wait = math.ceil((row.sent_at + RESEND_AFTER - now).total_seconds())
            raise ConfirmationThrottled(wait=wait, code="confirmation_resend_too_soon", detail=ngettext(
                "A code was sent to this customer less than a minute ago: ask again in %(n)d second.",
                "A code was sent to this customer less than a minute ago: ask again in %(n)d seconds.", wait) % {"n": wait})
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = secrets.token_hex(16)
        row, _created = EnrolConfirmation.objects.update_or_create(api_key=key, customer=customer, defaults={
            "code_hash": _code_hash(salt, code), "salt": salt, "channel": channel, "sent_at": now,
            "expires_at": now + CODE_TTL, "tries": 0,
        })
        message = campaigns_services.addressed_message_send(
            kind=Automation.Kind.ENROL_CODE, customer_id=customer.pk, channel=channel, address=address,
            language=language, occasion=f"enrol:{key.prefix}:{now.timestamp():.6f}",
            context={"confirmation_code": code, "partner": key.partner.name,
                     "code_minutes": int(CODE_TTL.total_seconds() // 60)},
        )
        if message is None:
            raise ConfirmationUnavailable(gettext(
                "Club enrolment codes are turned off (the \"Club enrolment code\" automation): nobody can be "
                "enrolled with this key until staff turn them on."))
        return row


def _contact(customer: Customer, link: PartnerCustomer | None) -> tuple[str, str, str]:
    """(channel, address, language) as the key gave them: its view of a person it found by identity,
    else the customer it created or was shared (as it reads them). Never a contact it did not send."""
    if link is not None and link.view is not None:
        phone, email, language = link.view.get("phone"), link.view.get("email"), link.view.get("language") or "en"
    else:
        phone, email, language = customer.phone, customer.email, customer.language
    if phone:
        try:
            return Channel.SMS, normalize_e164(str(phone)), language
        except PermanentSmsError:
            if not email:
                raise ValidationError({"phone": [gettext(
                    "The phone number you gave for this customer cannot receive the confirmation code: send a valid "
                    "phone number or an email (PATCH customers/{id}/), then enrol again.")]}) from None
    if email:
        return Channel.EMAIL, str(email), language
    raise ValidationError({"customer": [gettext(
        "You gave no phone number or email for this customer, so the confirmation code cannot be sent: send a "
        "phone or an email (PATCH customers/{id}/), then enrol again.")]})


def _enrol_confirmed(key: ApiKey, customer: Customer, code: str, *, claimed: bool) -> bool:
    with transaction.atomic():
        row = EnrolConfirmation.objects.select_for_update().filter(api_key=key, customer=customer).first()
        if row is None:
            raise ConfirmationCodeInvalid(gettext(
                "No confirmation code is waiting for this customer (none was sent, or it was used): enrol without "
                "confirmation_code to send one."))
        if not claimed:
            raise _void(row)
        if timezone.now() >= row.expires_at:
            raise ConfirmationCodeExpired(gettext(
                "This confirmation code has expired: enrol without confirmation_code to send a new one."))
        if not constant_time_compare(row.code_hash, _code_hash(row.salt, code)):
            left = MAX_TRIES - row.tries
            if left <= 0:
                raise _void(row)
            raise ConfirmationCodeInvalid(ngettext(
                "This is not the confirmation code that was sent: %(n)d try left.",
                "This is not the confirmation code that was sent: %(n)d tries left.", left) % {"n": left})
        row.delete()
        _let_in(key, customer)
        return _enrol(customer)


def _void(row: EnrolConfirmation) -> ConfirmationThrottled:
    """The code is spent: Retry-After says when a new one may be sent."""
    wait = (row.sent_at + RESEND_AFTER - timezone.now()).total_seconds()
    return ConfirmationThrottled(wait=wait, code="confirmation_code_attempts_exceeded", detail=gettext(
        "Too many wrong confirmation codes: this code no longer works. Enrol without confirmation_code to send "
        "a new one."))


def _enrol_with_card(key: ApiKey, customer: Customer, member_number: str) -> bool:
    with transaction.atomic():
        PartnerCustomer.objects.select_for_update().filter(partner_id=key.partner_id, customer=customer).first()
        existing = membership_for(customer)
        # Not a member, or not their card: one answer, so a number tells nothing about the person.
        if existing is None or member_number_normalize(member_number) != existing.member_number:
            raise MemberNumberInvalid(gettext(
                "This is not the number on this customer's club card. Check the card, or enrol without "
                "member_number to send the customer a confirmation code."))
        _let_in(key, customer)
        return _enrol(customer)


def _let_in(key: ApiKey, customer: Customer) -> None:
    """From now on the key reads the person's membership (a person it sees through its view; the others it
    reads as stored already)."""
    link = (PartnerCustomer.objects.select_for_update()
            .filter(partner_id=key.partner_id, customer=customer, view__isnull=False).first())
    if link is not None and not link.view.get(VIEW_CLUB):
        link.view = {**link.view, VIEW_CLUB: True}
        link.save(update_fields=["view"])


def _enrol(customer: Customer) -> bool:
    with transaction.atomic():
        existing = membership_for(customer)
        club_services.member_enroll(customer=customer, source="api")
        return not (existing and existing.is_active)


def _code_hash(salt: str, code: str) -> str:
    return salted_hmac("api.enrolment.code", f"{salt}:{code}", algorithm="sha256").hexdigest()
