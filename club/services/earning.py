"""Earning rules: what earns points, how many, and how often.

Club managers edit `EarningRule`s in the admin. Each award has an idempotency key built
from what caused it (the order, the event's key, the survey response), so the same cause
earns once; limits (once ever, N per period, N per day) are checked under the
membership lock, so two events at once cannot both slip under a limit.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from club.dates import day_start
from club.exceptions import LimitReached
from club.models import EarningRule, Membership, PendingPoints, PointsTransaction, Referral
from club.selectors.members import rules_active
from club.services.common import lock_member
from club.services.points import points_award, points_replayed
from crm.models import Customer, Order

Rule = EarningRule.Kind
Source = PointsTransaction.Source


def _limit_allows(rule: EarningRule, member: Membership, at: datetime) -> bool:
    if rule.limit == EarningRule.Limit.NONE:
        return True
    earned = PointsTransaction.objects.filter(rule=rule, member=member, kind=PointsTransaction.Kind.EARN)
    pending = PendingPoints.objects.filter(rule=rule, member=member, status=PendingPoints.Status.PENDING)
    if rule.limit == EarningRule.Limit.ONCE:
        return not earned.exists() and not pending.exists()
    if rule.limit == EarningRule.Limit.PER_DAY:
        since = day_start(timezone.localdate(at))
        count = rule.limit_count
    else:
        since = at - timedelta(days=rule.limit_period_days)
        count = rule.limit_count
    return earned.filter(created_at__gte=since).count() + pending.filter(created_at__gte=since).count() < count


def _award(
    *, member: Membership, rule: EarningRule, points: int, key: str, source: str,
    raise_on_limit: bool = False, **fields,
) -> PointsTransaction | None:
    existing = PointsTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return points_replayed(existing, member)
    if points <= 0:
        return None
    with transaction.atomic():
        locked = lock_member(member)
        if not locked.is_active:
            if raise_on_limit:
                raise ValidationError(_("Only active members earn points."))
            return None
        at = timezone.now()
        if not _limit_allows(rule, locked, at):
            if raise_on_limit:
                raise LimitReached(_("The limit of the rule %(rule)s is reached.") % {"rule": rule.name})
            return None
        return points_award(member=locked, points=points, source=source, idempotency_key=key, rule=rule, **fields)


# --- Referrals -------------------------------------------------------------------------------


@transaction.atomic
def referral_create(*, referrer: Membership, referred: Customer) -> Referral:
    """Record that a member brought in a new customer; both earn when that customer's first counted order arrives."""
    referral_check(referrer=referrer, referred=referred)
    return Referral.objects.create(referrer=referrer, referred=referred)


def referral_check(*, referrer: Membership, referred: Customer) -> None:
    """Raise ValidationError unless `referred` is a new customer the member may refer."""
    if referrer.customer_id == referred.pk:
        raise ValidationError({"referred": _("A member cannot refer themselves.")})
    if referred.orders_count or Order.objects.filter(customer=referred, is_counted=True).exists():
        raise ValidationError({"referred": _("%(customer)s has already ordered: only new customers can be referred.")
                                            % {"customer": referred}})
    if Referral.objects.filter(referred=referred).exists():
        raise ValidationError({"referred": _("%(customer)s was already referred.") % {"customer": referred}})


def referral_rewards_for_orders(*, order_ids) -> list[PointsTransaction]:
    """The referral rewards a batch of new orders brings: a referred customer's first counted order
    pays the referrer and the newcomer (crm's orders_created, through club.services.purchases)."""
    counted = Order.objects.filter(pk__in=list(order_ids), is_counted=True)
    rows = []
    for referral in Referral.objects.filter(referred_id__in=counted.values("customer_id"), rewarded_at__isnull=True):
        first = counted.filter(customer_id=referral.referred_id).order_by("placed_at", "pk").first()
        rows += referral_reward_for_order(order=first)
    return rows


def referral_reward_for_order(*, order: Order) -> list[PointsTransaction]:
    if order.status in (Order.Status.CANCELLED, Order.Status.REFUNDED):
        return []
    referral = Referral.objects.select_related("referrer").filter(referred_id=order.customer_id, rewarded_at__isnull=True).first()
    if referral is None:
        return []
    # The conditional UPDATE claims the reward: a second order arriving at the same moment pays nothing.
    if not Referral.objects.filter(pk=referral.pk, rewarded_at__isnull=True).update(rewarded_at=timezone.now(), order=order):
        return []
    rule = rules_active(Rule.REFERRAL).first()
    if rule is None:
        return []
    rows = [_award(member=referral.referrer, rule=rule, points=rule.points, key=f"referral:{referral.pk}:referrer",
                   source=Source.REFERRAL, source_ref=str(referral.pk), order=order)]
    referee = Membership.objects.filter(customer_id=order.customer_id).first()
    if referee is not None:
        rows.append(_award(member=referee, rule=rule, points=rule.referee_points, key=f"referral:{referral.pk}:referee",
                           source=Source.REFERRAL, source_ref=str(referral.pk)))
    return [row for row in rows if row is not None]


# --- One-off bonuses -------------------------------------------------------------------------


def points_award_signup(*, member: Membership) -> PointsTransaction | None:
    rule = rules_active(Rule.SIGNUP).first()
    if rule is None:
        return None
    return _award(member=member, rule=rule, points=rule.points, key=f"signup:{member.pk}:{rule.pk}", source=Source.SIGNUP)


def profile_is_complete(customer: Customer) -> bool:
    return bool(customer.birth_date and customer.phone and customer.email)


def points_award_for_profile(*, member: Membership) -> PointsTransaction | None:
    """The profile completion bonus, once, when birth date, phone and email are all filled in."""
    customer = Customer.objects.get(pk=member.customer_id)
    if not profile_is_complete(customer):
        return None
    rule = rules_active(Rule.PROFILE).first()
    if rule is None:
        return None
    return _award(member=member, rule=rule, points=rule.points, key=f"profile:{member.pk}:{rule.pk}", source=Source.PROFILE)


def points_award_for_feedback(*, member: Membership, response_ref: str) -> PointsTransaction | None:
    """Called by the feedback app when a survey is answered; `response_ref` (e.g. the
    response's public id) makes a repeated call earn once."""
    rule = rules_active(Rule.FEEDBACK).first()
    if rule is None:
        return None
    return _award(member=member, rule=rule, points=rule.points, key=f"feedback:{response_ref}:{rule.pk}", source=Source.SURVEY,
                  source_ref=str(response_ref)[:100])


def points_award_for_event(*, member: Membership, event: str, idempotency_key: str) -> PointsTransaction:
    """A named custom event from a partner (social_share, app_review...).

    Unknown or inactive event: ValidationError. Same key again: the first row, nothing new.
    Over the rule's limit: LimitReached (409)."""
    if not idempotency_key:
        raise ValidationError({"idempotency_key": _("An idempotency key is required.")})
    key = f"event:{event}:{idempotency_key}"
    existing = PointsTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return points_replayed(existing, member)
    rule = rules_active(Rule.EVENT, event_name=event).first()
    if rule is None:
        raise ValidationError({"event": _("There is no active earning rule for the event %(event)s.") % {"event": event}})
    return _award(member=member, rule=rule, points=rule.points, key=key, source=Source.EVENT,
                  source_ref=event, raise_on_limit=True)


def points_award_birthday(*, member: Membership, year: int) -> PointsTransaction | None:
    rule = rules_active(Rule.BIRTHDAY).first()
    if rule is None:
        return None
    return _award(member=member, rule=rule, points=rule.points, key=f"birthday:{member.pk}:{year}", source=Source.BIRTHDAY,
                  source_ref=str(year))
