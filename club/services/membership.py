"""Enrolment and membership status."""

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from club.codes import luhn_check_digit
from club.models import Membership, TierChange
from club.selectors.tiers import tier_for_value
from club.services.common import lock_member
from club.services.earning import points_award_for_profile, points_award_signup, referral_create
from club.services.notifications import notice_send_once
from core.audit import audited, history_record
from crm.models import Customer


def member_number_generate() -> str:
    """Ten digits, the last a Luhn check digit, so a mistyped number is caught at once."""
    body = f"{secrets.randbelow(9 * 10**8) + 10**8}"
    return body + str(luhn_check_digit(body))


@audited
@transaction.atomic
def member_enroll(*, customer: Customer, by=None, source: str = "admin", referred_by: Membership | None = None) -> Membership:
    """Enrol a customer in the club (admin, API, imports). Idempotent: an active member is
    returned as is; one who left or was suspended is made active again.

    A new member starts in the entry tier, gets the signup bonus and the profile completion
    bonus when those rules are on, and a welcome message (member_notification "welcome")."""
    existing = Membership.objects.filter(customer=customer).first()
    if existing is not None:
        if existing.status != Membership.Status.ACTIVE:
            return member_set_status(member=existing, status=Membership.Status.ACTIVE, by=by)
        return existing
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    membership = None
    for _attempt in range(10):
        try:
            with transaction.atomic():
                membership = Membership.objects.create(customer=customer, member_number=member_number_generate(), source=source)
            break
        except IntegrityError:
            if Membership.objects.filter(customer=customer).exists():
                return Membership.objects.get(customer=customer)
    if membership is None:
        raise RuntimeError("Could not find a free member number.")
    entry = tier_for_value(0)
    if entry is not None:
        Membership.objects.filter(pk=membership.pk).update(tier=entry)
        membership.tier = entry
        TierChange.objects.create(member=membership, from_tier=None, to_tier=entry, reason=TierChange.Reason.ENROLLED, changed_by=by)
    if referred_by is not None:
        referral_create(referrer=referred_by, referred=customer)
    points_award_signup(member=membership)
    points_award_for_profile(member=membership)
    membership.refresh_from_db()
    notice_send_once(member_id=membership.pk, kind="welcome", keys=["welcome"], context={"member_number": membership.member_number})
    return membership


@audited
@transaction.atomic
def member_set_status(*, member: Membership, status: str, by=None) -> Membership:
    if status not in Membership.Status.values:
        raise ValidationError({"status": _("Unknown membership status %(status)s.") % {"status": status}})
    locked = lock_member(member)
    if locked.status != status:
        Membership.objects.filter(pk=locked.pk).update(status=status)
        locked.status = status
        history_record(locked, by=by)  # the UPDATE sent no signal: one audit row (core.audit)
    member.status = status
    return locked

