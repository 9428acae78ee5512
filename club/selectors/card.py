"""The member card: everything the admin panel, the customer page and the public card show."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from club.codes import member_number_format
from club.models import Membership
from club.selectors.ledger import points_expiring
from club.selectors.members import membership_for
from club.selectors.tiers import tier_next, tier_qualifying_value


@dataclass
class MemberCard:
    member: Membership
    member_number: str
    qualifying_value: Decimal
    basis: str
    next_tier: object | None
    to_next_tier: Decimal | None
    progress_percent: int
    expiring_points: int
    expiring_on: date | None
    transactions: list = field(default_factory=list)
    coupons: list = field(default_factory=list)
    tier_changes: list = field(default_factory=list)

    @property
    def tier(self):
        return self.member.tier

    @property
    def balance(self) -> int:
        return self.member.points_balance

    @property
    def pending(self) -> int:
        return self.member.pending_points

    @property
    def shortfall(self) -> int:
        return self.member.points_shortfall


def member_card(customer_or_member, *, at: datetime | None = None, rows: int = 20) -> MemberCard | None:
    """Everything the member card shows (admin, customer page, public card), in a fixed number of queries.
    None when the customer is not a member."""
    if isinstance(customer_or_member, Membership):
        member = customer_or_member
    else:
        member = membership_for(customer_or_member)
        if member is None:
            return None
    at = at or timezone.now()
    value = tier_qualifying_value(member=member, at=at)
    following = tier_next(member.tier)
    to_next = progress = None
    if following is not None:
        to_next = max(following.threshold - value, Decimal("0"))
        floor = member.tier.threshold if member.tier_id else Decimal("0")
        span = following.threshold - floor
        progress = 100 if span <= 0 else int(max(Decimal("0"), min(Decimal("100"), (value - floor) * 100 / span)))
    expiring, expiring_on = points_expiring(member, within_days=settings.CLUB_EXPIRY_WARNING_DAYS, at=at)
    return MemberCard(
        member=member,
        member_number=member_number_format(member.member_number),
        qualifying_value=value,
        basis=settings.CLUB_TIER_BASIS,
        next_tier=following,
        to_next_tier=to_next,
        progress_percent=100 if following is None else progress,
        expiring_points=expiring,
        expiring_on=expiring_on,
        transactions=list(member.transactions.with_facts().select_related("created_by").order_by("-created_at", "-id")[:rows]),
        coupons=list(member.coupons.select_related("offer", "redemption").order_by("-issued_at", "-id")[:rows]),
        tier_changes=list(member.tier_changes.select_related("from_tier", "to_tier", "changed_by")[:rows]),
    )
