"""Birthday rewards: a coupon valued by the member's tier and the birthday bonus, once a year.

The `BirthdayReward` row, unique per (member, year), is what makes it once: running the
job three times on one day, a retried task or two workers at once give one coupon.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from club.dates import day_end, day_start
from club.models import BirthdayReward, Coupon, Membership
from club.selectors.members import members_due_birthday
from club.services.common import lock_member
from club.services.earning import points_award_birthday
from club.services.notifications import notice_send_once
from club.services.offers import coupon_issue


def birthday_for_run(run_date: date) -> date:
    """The birthday the job run on `run_date` (a local date in TIME_ZONE) serves."""
    return run_date + timedelta(days=settings.CLUB_BIRTHDAY_DAYS_BEFORE)


def birthday_rewards_run(*, run_date: date) -> dict:
    """Daily job: each member due gets their birthday reward (see `birthday_reward_give`)."""
    birthday = birthday_for_run(run_date)
    given = 0
    for member in members_due_birthday(birthday).iterator(chunk_size=500):
        given += birthday_reward_give(member=member, birthday=birthday, run_date=run_date) is not None
    return {"birthday": birthday.isoformat(), "rewarded": given}


@transaction.atomic
def birthday_reward_give(*, member: Membership, birthday: date, run_date: date | None = None) -> BirthdayReward | None:
    """Give this year's reward unless it was given; None when it already was.

    The coupon is valid from the start of the run date (a replayed day gives the coupon
    that day would have given) until CLUB_BIRTHDAY_COUPON_VALID_DAYS after the birthday."""
    locked = lock_member(member)
    try:
        with transaction.atomic():
            reward = BirthdayReward.objects.create(member=locked, year=birthday.year)
    except IntegrityError:
        return None
    tier = locked.tier
    if tier is not None and tier.birthday_discount_value > 0:
        reward.coupon = coupon_issue(
            member=locked, kind=Coupon.Kind.BIRTHDAY, discount_kind=tier.birthday_discount_kind, value=tier.birthday_discount_value,
            valid_from=day_start(run_date or birthday),
            expires_at=day_end(birthday + timedelta(days=settings.CLUB_BIRTHDAY_COUPON_VALID_DAYS)),
            idempotency_key=f"birthday:{locked.pk}:{birthday.year}",
        )
    reward.points_transaction = points_award_birthday(member=locked, year=birthday.year)
    reward.save(update_fields=["coupon", "points_transaction"])
    context = {"birthday": birthday.isoformat(), "points": reward.points_transaction.points if reward.points_transaction else 0}
    if reward.coupon:
        context.update(coupon=reward.coupon.code, discount_kind=reward.coupon.discount_kind, value=str(reward.coupon.value),
                       expires_at=reward.coupon.expires_at.isoformat())
    notice_send_once(member_id=locked.pk, kind="birthday", keys=[str(birthday.year)], context=context)
    return reward

