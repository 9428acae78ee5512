"""The club's step of `seed_demo` (contributed to core.demo in club.contributions).

Tiers, earning rules and offers; memberships for about 60% of the new customers; a
ledger consistent with their orders (an earning per order placed since they joined, a
reversal for each refund or cancellation, some offer redemptions with their coupons);
then the real jobs (expiry, tier review) bring the cached figures and tiers in line.
Rows are written with bulk_create in chunks, so large N stays fast.
"""

from collections import Counter
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from club.models import (
    Coupon,
    CouponRedemption,
    EarningRule,
    Membership,
    Offer,
    PointsTransaction,
    Tier,
    TierChange,
)
from club.services import points_expire_due, points_refresh_cached
from club.services.membership import luhn_check_digit
from club.services.offers import CODE_ALPHABET, CODE_LENGTH
from club.services.tiers import tiers_review
from crm.models import Order

CHUNK = 2000
MEMBER_SHARE = 0.6

TIERS = [
    # name, rank, threshold, multiplier, birthday kind, birthday value, exclusive, loyal
    ("Bronze", 1, 0, "1.00", "percent", "10", False, False),
    ("Silver", 2, 500, "1.25", "percent", "15", False, False),
    ("Gold", 3, 2000, "1.50", "percent", "20", True, True),
    ("Platinum", 4, 5000, "2.00", "fixed", "50", True, True),
]

RULES = [
    {"name": "Purchases: 1 point per unit", "kind": "purchase", "points_per_unit": Decimal("1"),
     "category_multipliers": {"coffee": 2}},
    {"name": "Welcome bonus", "kind": "signup", "points": 100, "limit": "once"},
    {"name": "Complete your profile", "kind": "profile", "points": 50, "limit": "once"},
    {"name": "Refer a friend", "kind": "referral", "points": 300, "referee_points": 100},
    {"name": "Thanks for your feedback", "kind": "feedback", "points": 50, "limit": "per_period", "limit_count": 2,
     "limit_period_days": 30},
    {"name": "Birthday bonus", "kind": "birthday", "points": 200},
    {"name": "Shared on social media", "kind": "event", "event_name": "social_share", "points": 25, "limit": "per_day",
     "limit_count": 1},
    {"name": "Reviewed the app", "kind": "event", "event_name": "app_review", "points": 100, "limit": "once"},
]

OFFERS = [
    {"title": "A free pastry", "kind": "gift", "points_cost": 150},
    {"title": "10% off your next order", "kind": "percent", "value": Decimal("10"), "points_cost": 500},
    {"title": "5 off any coffee", "kind": "fixed", "value": Decimal("5"), "points_cost": 300, "min_order_value": Decimal("20")},
    {"title": "Free delivery", "kind": "free_shipping", "points_cost": 0, "per_member_limit": 1},
    {"title": "Gold lounge: 25% off", "kind": "percent", "value": Decimal("25"), "points_cost": 1000, "exclusive": True,
     "per_member_limit": 2},
]

# The demo's club content in the other languages (club/translation.py), so the fa and ar cards read in theirs.
IN_OTHER_LANGUAGES = {
    "Bronze": {"fa": "برنزی", "ar": "برونزي"},
    "Silver": {"fa": "نقره‌ای", "ar": "فضي"},
    "Gold": {"fa": "طلایی", "ar": "ذهبي"},
    "Platinum": {"fa": "پلاتینیوم", "ar": "بلاتيني"},
    "Purchases: 1 point per unit": {"fa": "خرید: ۱ امتیاز برای هر واحد", "ar": "المشتريات: نقطة واحدة لكل وحدة"},
    "Welcome bonus": {"fa": "هدیهٔ خوش‌آمد", "ar": "مكافأة الترحيب"},
    "Complete your profile": {"fa": "نمایه‌تان را کامل کنید", "ar": "أكمل ملفك الشخصي"},
    "Refer a friend": {"fa": "دوستی را معرفی کنید", "ar": "ادعُ صديقًا"},
    "Thanks for your feedback": {"fa": "سپاس برای نظرتان", "ar": "شكرًا على رأيك"},
    "Birthday bonus": {"fa": "هدیهٔ تولد", "ar": "مكافأة عيد الميلاد"},
    "Shared on social media": {"fa": "هم‌رسانی در شبکه‌های اجتماعی", "ar": "المشاركة على وسائل التواصل"},
    "Reviewed the app": {"fa": "نقد و بررسی برنامه", "ar": "تقييم التطبيق"},
    "A free pastry": {"fa": "یک شیرینی رایگان", "ar": "معجنات مجانية"},
    "10% off your next order": {"fa": "۱۰٪ تخفیف سفارش بعدی", "ar": "خصم 10% على طلبك القادم"},
    "5 off any coffee": {"fa": "۵ واحد تخفیف هر قهوه", "ar": "خصم 5 على أي قهوة"},
    "Free delivery": {"fa": "ارسال رایگان", "ar": "توصيل مجاني"},
    "Gold lounge: 25% off": {"fa": "سالن طلایی: ۲۵٪ تخفیف", "ar": "الصالة الذهبية: خصم 25%"},
}


def _in_other_languages(field: str, value: str) -> dict[str, str]:
    return {f"{field}_{language}": text for language, text in IN_OTHER_LANGUAGES.get(value, {}).items()}


def seed(*, rng, customers, now: datetime, progress=None, **kwargs) -> dict[str, int]:
    tiers = _ensure_tiers()
    purchase_rule = _ensure_rules()
    offers = _ensure_offers(tiers)
    counts = {"club_members": 0, "club_points_transactions": 0, "club_coupons": 0}
    ids = list(customers.filter(membership__isnull=True).order_by("pk").values_list("pk", "acquired_at", "first_order_at"))
    chosen = [row for row in ids if rng.random() < MEMBER_SHARE]
    numbers = set(Membership.objects.values_list("member_number", flat=True))
    bar = progress(desc="Club members", total=len(chosen), unit="member") if progress else None
    try:
        for start in range(0, len(chosen), CHUNK):
            with transaction.atomic():
                chunk = _seed_chunk(rng, chosen[start:start + CHUNK], now, tiers, purchase_rule, offers, numbers)
            for key, value in chunk.items():
                counts[key] += value
            if bar:
                bar.update(len(chosen[start:start + CHUNK]))
    finally:
        if bar:
            bar.close()
    # The real jobs finish the picture: what has expired expires, tiers follow the ledger.
    today = timezone.localdate(now)
    counts["club_points_transactions"] += points_expire_due(run_date=today)["rows"]
    counts["club_tier_changes"] = tiers_review(run_date=today)["changed"]
    return counts


def _seed_chunk(rng, rows, now, tiers, purchase_rule, offers, numbers) -> dict[str, int]:
    entry = tiers[0]
    members = []
    for customer_id, acquired_at, first_order_at in rows:
        start = min(filter(None, [acquired_at, first_order_at]), default=now - timedelta(days=rng.randint(1, 700)))
        joined_at = start + timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
        members.append(Membership(
            customer_id=customer_id, member_number=_member_number(rng, numbers), joined_at=min(joined_at, now),
            tier=entry, source="demo",
        ))
    members = Membership.objects.bulk_create(members)
    TierChange.objects.bulk_create([
        TierChange(member=member, to_tier=entry, reason=TierChange.Reason.ENROLLED, changed_at=member.joined_at)
        for member in members
    ])
    by_customer = {member.customer_id: member for member in members}
    expiry = timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS)
    signup = EarningRule.objects.filter(kind="signup").order_by("pk").first()
    ledger = []
    earned: dict[int, int] = {}
    if signup is not None and signup.points:
        for member in members:
            ledger.append(PointsTransaction(
                member=member, points=signup.points, kind="earn", source="signup", rule=signup,
                idempotency_key=f"signup:{member.pk}:{signup.pk}", created_at=member.joined_at,
                expires_at=member.joined_at + expiry,
            ))
            earned[member.pk] = signup.points
    orders = Order.objects.filter(customer_id__in=list(by_customer)).values_list(
        "pk", "customer_id", "order_number", "placed_at", "status", "total", "refunded_amount"
    )
    for order_id, customer_id, number, placed_at, status, total, refunded in orders.iterator(chunk_size=CHUNK):
        member = by_customer[customer_id]
        points = int(total.to_integral_value(ROUND_FLOOR))
        if status == Order.Status.CANCELLED or placed_at < member.joined_at or placed_at > now or points <= 0:
            continue
        ledger.append(PointsTransaction(
            member=member, points=points, kind="earn", source="order", rule=purchase_rule,
            order_id=order_id, idempotency_key=f"order:{order_id}:rule:{purchase_rule.pk}", created_at=placed_at,
            expires_at=placed_at + expiry,
        ))
        earned[member.pk] = earned.get(member.pk, 0) + points
        taken = points if status == Order.Status.REFUNDED else int(refunded.to_integral_value(ROUND_FLOOR))
        if taken > 0:
            ledger.append(PointsTransaction(
                member=member, points=-taken, kind="reverse", source="order",
                order_id=order_id, idempotency_key=f"reverse:demo:{order_id}", created_at=min(placed_at + timedelta(days=3), now),
            ))
            earned[member.pk] -= taken
    # Originals are needed for reversals: insert earnings first, then link.
    earn_rows = PointsTransaction.objects.bulk_create([row for row in ledger if row.kind == "earn"], batch_size=CHUNK)
    by_order = {row.order_id: row for row in earn_rows if row.order_id}
    reverse_rows = [row for row in ledger if row.kind == "reverse"]
    for row in reverse_rows:
        row.original = by_order[row.order_id]
    PointsTransaction.objects.bulk_create(reverse_rows, batch_size=CHUNK)

    coupons, redemptions, redeem_rows = _redemptions(rng, members, earned, offers, now)
    PointsTransaction.objects.bulk_create(redeem_rows, batch_size=CHUNK)
    Coupon.objects.bulk_create(coupons, batch_size=CHUNK)  # bulk_create picks up the new pks of related rows
    CouponRedemption.objects.bulk_create(redemptions, batch_size=CHUNK)
    for offer_id, used in Counter(coupon.offer_id for coupon in coupons).items():
        Offer.objects.filter(pk=offer_id).update(redeemed_count=F("redeemed_count") + used)
    points_refresh_cached([member.pk for member in members])
    return {
        "club_members": len(members),
        "club_points_transactions": len(earn_rows) + len(reverse_rows) + len(redeem_rows),
        "club_coupons": len(coupons),
    }


def _redemptions(rng, members, earned, offers, now):
    """About one member in four has spent points on an offer; about half of those coupons were used."""
    paid = [offer for offer in offers if offer.points_cost and not offer.exclusive]
    coupons, redemptions, rows = [], [], []
    for member in members:
        balance = earned.get(member.pk, 0)
        if rng.random() > 0.25:
            continue
        offer = rng.choice(paid)
        if balance < offer.points_cost:
            continue
        when = max(member.joined_at, now - timedelta(days=rng.randint(1, 300)))
        row = PointsTransaction(
            member=member, points=-offer.points_cost, kind="redeem", source="offer",
            source_ref=str(offer.pk), idempotency_key=f"offer:demo:{member.pk}:{offer.pk}", created_at=when,
        )
        rows.append(row)
        coupon = Coupon(
            code=_code(rng), member=member, kind="offer", offer=offer, discount_kind=offer.kind, value=offer.value,
            min_order_value=offer.min_order_value, valid_from=when, expires_at=when + timedelta(days=settings.CLUB_COUPON_VALID_DAYS),
            points_transaction=row, issued_at=when,
        )
        if rng.random() < 0.5 and coupon.expires_at > when + timedelta(days=2):
            used_at = min(when + timedelta(days=rng.randint(1, 2)), now)  # never after the anchor
            coupon.redeemed_at = used_at
            redemptions.append(CouponRedemption(
                coupon=coupon, order_value=Decimal(rng.randint(20, 200)), discount=Decimal("5"), redeemed_at=used_at,
                reference="demo till",
            ))
        coupons.append(coupon)
    return coupons, redemptions, rows


def _member_number(rng, taken: set[str]) -> str:
    while True:
        body = str(rng.randrange(10**8, 10**9))
        number = body + str(luhn_check_digit(body))
        if number not in taken:
            taken.add(number)
            return number


def _code(rng) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _ensure_tiers() -> list[Tier]:
    tiers = []
    for name, rank, threshold, multiplier, kind, value, exclusive, loyal in TIERS:
        tier, _created = Tier.objects.get_or_create(name=name, defaults={
            "rank": rank, "threshold": threshold, "points_multiplier": Decimal(multiplier), "birthday_discount_kind": kind,
            "birthday_discount_value": Decimal(value), "exclusive_offers": exclusive, "counts_as_loyal": loyal, **_in_other_languages("name", name),
        })
        tiers.append(tier)
    return sorted(tiers, key=lambda tier: tier.rank)


def _ensure_rules() -> EarningRule:
    for values in RULES:
        values = dict(values)
        name = values.pop("name")
        EarningRule.objects.get_or_create(name=name, defaults={**values, **_in_other_languages("name", name)})
    return EarningRule.objects.get(name=RULES[0]["name"])


def _ensure_offers(tiers) -> list[Offer]:
    offers = []
    for values in OFFERS:
        values = dict(values)
        title = values.pop("title")
        if values.get("exclusive"):
            values["min_tier"] = tiers[2]
        offer, _created = Offer.objects.get_or_create(title=title, defaults={**values, **_in_other_languages("title", title)})
        offers.append(offer)
    return offers
