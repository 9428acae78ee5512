"""The club's step of `seed_demo` (contributed to core.demo in club.contributions).

Tiers, earning rules and offers; memberships for about 60% of the new customers; a
ledger consistent with their orders (an earning per order placed since they joined, a
reversal for each refund or cancellation, some offer redemptions with their coupons);
then the real jobs (expiry, tier review) bring the cached figures and tiers in line.
Rows are written as plain rows in chunks (core.copy: COPY on PostgreSQL), so large N stays fast.
"""

import uuid
from collections import Counter
from contextlib import nullcontext
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
from club.services import points_expire_due_at_once, points_refresh_cached
from club.services.membership import luhn_check_digit
from club.services.offers import CODE_ALPHABET, CODE_LENGTH
from club.services.tiers import tiers_review
from core.audit import SOURCE_MAX_LENGTH, current_source
from core.copy import Cents, analyze_tables, bulk_load, ids_reserve, write_rows
from crm.models import Order

CHUNK = 2000
MEMBER_SHARE = 0.6
LOADED = (Membership, TierChange, PointsTransaction, Coupon, CouponRedemption)

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


MEMBER_COLUMNS = (
    "id", "customer_id", "member_number", "status", "joined_at", "source", "tier_id", "points_balance", "pending_points",
    "points_shortfall", "qualifying_value",
)
TIER_CHANGE_COLUMNS = ("id", "member_id", "to_tier_id", "reason", "note", "changed_at", "audit_source")
LEDGER_COLUMNS = (
    "id", "public_id", "member_id", "points", "kind", "source", "reason", "rule_id", "order_id", "source_ref",
    "original_id", "lines", "shortfall", "expires_at", "idempotency_key", "audit_source", "created_at",
)
COUPON_COLUMNS = (
    "id", "code", "member_id", "kind", "offer_id", "discount_kind", "value", "min_order_value", "valid_from",
    "expires_at", "points_transaction_id", "issued_at", "redeemed_at",
)
REDEMPTION_COLUMNS = ("id", "coupon_id", "order_value", "discount", "reference", "redeemed_at", "audit_source")


def seed(*, rng, customers, now: datetime, progress=None, **kwargs) -> dict[str, int]:
    tiers = _ensure_tiers()
    purchase_rule = _ensure_rules()
    offers = _ensure_offers(tiers)
    counts = {"club_members": 0, "club_points_transactions": 0, "club_coupons": 0}
    numbers = set(Membership.objects.values_list("member_number", flat=True))
    # Into an empty club, one transaction with the indexes and constraints built once at the end
    # (core.copy.bulk_load, as crm's step); otherwise one transaction per chunk.
    empty = not numbers and not PointsTransaction.objects.exists()
    # (No customer of an empty club is a member: no join with the memberships, whose indexes wait.)
    candidates = (customers if empty else customers.filter(membership__isnull=True)).order_by("pk")
    bar = progress(desc="Club members", total=candidates.count(), unit="customer") if progress else None
    first_member = last_member = None
    try:
        with bulk_load(*LOADED) if empty else nullcontext():
            # Keyset pages of the new customers (memory stays flat); about 60% of them join.
            last_pk = 0
            while True:
                page = list(candidates.filter(pk__gt=last_pk).values_list("pk", "acquired_at", "first_order_at")[:CHUNK * 2])
                if not page:
                    break
                last_pk = page[-1][0]
                chosen = [row for row in page if rng.random() < MEMBER_SHARE]
                if chosen:
                    with transaction.atomic():
                        chunk, member_ids = _seed_chunk(rng, chosen, now, tiers, purchase_rule, offers, numbers)
                    first_member = member_ids[0] if first_member is None else first_member
                    last_member = member_ids[-1]
                    for key, value in chunk.items():
                        counts[key] += value
                if bar:
                    bar.update(len(page))
    finally:
        if bar:
            bar.close()
    if first_member is not None:
        # The new members' cached balances from their ledger, in one UPDATE.
        points_refresh_cached(Membership.objects.filter(pk__gte=first_member, pk__lte=last_member).values("pk"))
    analyze_tables(*LOADED)
    # The real jobs finish the picture: what has expired expires (the job's query, over all members
    # at once), tiers follow the ledger (the nightly review, set-based).
    today = timezone.localdate(now)
    counts["club_points_transactions"] += points_expire_due_at_once(run_date=today)["rows"]
    counts["club_tier_changes"] = tiers_review(run_date=today)["changed"]
    return counts


def _uuid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _seed_chunk(rng, rows, now, tiers, purchase_rule, offers, numbers) -> tuple[dict[str, int], list[int]]:
    """Members, their enrolment, their ledger and coupons as plain rows (core.copy: COPY on PostgreSQL);
    returns the counts and the new members' ids (their cached figures are the caller's)."""
    entry = tiers[0]
    source = current_source()[:SOURCE_MAX_LENGTH]
    member_ids = ids_reserve(Membership, len(rows))
    members = []  # (id, customer id, joined_at)
    member_rows = []
    for member_id, (customer_id, acquired_at, first_order_at) in zip(member_ids, rows):
        start = min(filter(None, [acquired_at, first_order_at]), default=now - timedelta(days=rng.randint(1, 700)))
        joined_at = min(start + timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440)), now)
        members.append((member_id, customer_id, joined_at))
        member_rows.append((member_id, customer_id, _member_number(rng, numbers), Membership.Status.ACTIVE.value,
                            joined_at, "demo", entry.pk, 0, 0, 0, Cents(0)))
    write_rows(Membership, MEMBER_COLUMNS, member_rows)
    write_rows(TierChange, TIER_CHANGE_COLUMNS, [
        (change_id, member_id, entry.pk, TierChange.Reason.ENROLLED.value, "", joined_at, source)
        for change_id, (member_id, _customer_id, joined_at) in zip(ids_reserve(TierChange, len(members)), members)
    ])
    by_customer = {customer_id: (member_id, joined_at) for member_id, customer_id, joined_at in members}
    expiry = timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS)
    signup = EarningRule.objects.filter(kind="signup").order_by("pk").first()
    earnings, reversals = [], []  # rows without their id; a reversal names its earning's index in `earnings`
    earned: dict[int, int] = {}
    if signup is not None and signup.points:
        for member_id, _customer_id, joined_at in members:
            earnings.append((
                _uuid(rng), member_id, signup.points, "earn", "signup", "", signup.pk, None, "", None, {}, 0,
                joined_at + expiry, f"signup:{member_id}:{signup.pk}", source, joined_at,
            ))
            earned[member_id] = signup.points
    orders = Order.objects.filter(customer_id__in=list(by_customer)).order_by("pk").values_list(
        "pk", "customer_id", "placed_at", "status", "total", "refunded_amount"
    )
    for order_id, customer_id, placed_at, status, total, refunded in orders.iterator(chunk_size=CHUNK * 4):
        member_id, joined_at = by_customer[customer_id]
        points = int(total.to_integral_value(ROUND_FLOOR))
        if status == Order.Status.CANCELLED or placed_at < joined_at or placed_at > now or points <= 0:
            continue
        earnings.append((
            _uuid(rng), member_id, points, "earn", "order", "", purchase_rule.pk, order_id, "", None, {}, 0,
            placed_at + expiry, f"order:{order_id}:rule:{purchase_rule.pk}", source, placed_at,
        ))
        earned[member_id] = earned.get(member_id, 0) + points
        taken = points if status == Order.Status.REFUNDED else int(refunded.to_integral_value(ROUND_FLOOR))
        if taken > 0:
            reversals.append((
                _uuid(rng), member_id, -taken, "reverse", "order", "", None, order_id, "", len(earnings) - 1, {}, 0,
                None, f"reverse:demo:{order_id}", source, min(placed_at + timedelta(days=3), now),
            ))
            earned[member_id] -= taken
    # Originals first: a reversal names its earning.
    earning_ids = ids_reserve(PointsTransaction, len(earnings))
    write_rows(PointsTransaction, LEDGER_COLUMNS, [(row_id, *row) for row_id, row in zip(earning_ids, earnings)])
    write_rows(PointsTransaction, LEDGER_COLUMNS, [
        (row_id, *row[:9], earning_ids[row[9]], *row[10:])
        for row_id, row in zip(ids_reserve(PointsTransaction, len(reversals)), reversals)
    ])

    redeemed, coupons, redemptions = _redemptions(rng, members, earned, offers, now, source)
    write_rows(PointsTransaction, LEDGER_COLUMNS, redeemed)
    write_rows(Coupon, COUPON_COLUMNS, coupons)
    write_rows(CouponRedemption, REDEMPTION_COLUMNS, redemptions)
    for offer_id, used in Counter(coupon[4] for coupon in coupons).items():
        Offer.objects.filter(pk=offer_id).update(redeemed_count=F("redeemed_count") + used)
    return {
        "club_members": len(members),
        "club_points_transactions": len(earnings) + len(reversals) + len(redeemed),
        "club_coupons": len(coupons),
    }, member_ids


def _redemptions(rng, members, earned, offers, now, source):
    """About one member in four has spent points on an offer; about half of those coupons were used.
    Returns the ledger rows, coupons and redemptions, with their ids."""
    paid = [offer for offer in offers if offer.points_cost and not offer.exclusive]
    chosen = []
    for member_id, _customer_id, joined_at in members:
        balance = earned.get(member_id, 0)
        if rng.random() > 0.25:
            continue
        offer = rng.choice(paid)
        if balance < offer.points_cost:
            continue
        chosen.append((member_id, joined_at, offer))
    ledger_ids = ids_reserve(PointsTransaction, len(chosen))
    coupon_ids = ids_reserve(Coupon, len(chosen))
    rows, coupons, used = [], [], []
    for ledger_id, coupon_id, (member_id, joined_at, offer) in zip(ledger_ids, coupon_ids, chosen):
        when = max(joined_at, now - timedelta(days=rng.randint(1, 300)))
        rows.append((
            ledger_id, _uuid(rng), member_id, -offer.points_cost, "redeem", "offer", "", None, None, str(offer.pk), None,
            {}, 0, None, f"offer:demo:{member_id}:{offer.pk}", source, when,
        ))
        expires_at = when + timedelta(days=settings.CLUB_COUPON_VALID_DAYS)
        redeemed_at = None
        if rng.random() < 0.5 and expires_at > when + timedelta(days=2):
            redeemed_at = min(when + timedelta(days=rng.randint(1, 2)), now)  # never after the anchor
            used.append((coupon_id, Decimal(rng.randint(20, 200)), Decimal("5"), "demo till", redeemed_at, source))
        coupons.append((
            coupon_id, _code(rng), member_id, "offer", offer.pk, offer.kind, offer.value, offer.min_order_value, when,
            expires_at, ledger_id, when, redeemed_at,
        ))
    redemptions = [(row_id, *row) for row_id, row in zip(ids_reserve(CouponRedemption, len(used)), used)]
    return rows, coupons, redemptions


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
