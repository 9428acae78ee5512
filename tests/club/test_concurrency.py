"""Two tills at the same moment: real parallel transactions on PostgreSQL (20 threads).

Each thread has its own database connection and closes it at the end. Whatever the
interleaving: one wins, the others get a Conflict; balances never go negative, the
ledger adds up to the cached balance, a coupon is used once, and limits hold."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection

from club import services
from club.exceptions import Conflict, CouponAlreadyRedeemed, InsufficientPoints, LimitReached
from club.models import Coupon, CouponRedemption, EarningRule, Membership, Offer, PointsTransaction, Tier
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def run_in_parallel(work) -> Counter:
    """Run work(index) in THREADS threads released at the same instant; count the outcomes."""
    barrier = threading.Barrier(THREADS)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def target(index):
        try:
            barrier.wait()
            try:
                work(index)
                outcome = "ok"
            except Conflict as error:
                outcome = type(error).__name__
            except Exception as error:  # noqa: BLE001 - any other error fails the test below
                outcome = f"error: {error!r}"
            with lock:
                outcomes[outcome] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def club(db):
    Tier.objects.create(name="Bronze", rank=1, threshold=0)
    EarningRule.objects.create(name="Purchase", kind="purchase")


def new_member(points: int) -> Membership:
    member = services.member_enroll(customer=CustomerFactory())
    if points:
        services.points_adjust(member=member, points=points, reason="opening balance", by=None)
    return member


def assert_ledger_consistent():
    for member in Membership.objects.all():
        total = sum(PointsTransaction.objects.filter(member=member).values_list("points", flat=True))
        assert member.points_balance >= 0
        assert member.points_balance == total
    assert list(services.points_verify_balances()) == []


def test_twenty_tills_spending_the_same_points(club):
    member = new_member(1000)

    outcomes = run_in_parallel(lambda index: services.points_spend(
        member=member, points=100, reason="till", idempotency_key=f"till-{index}"))

    assert outcomes == Counter({"ok": 10, InsufficientPoints.__name__: 10})
    member.refresh_from_db()
    assert member.points_balance == 0
    assert_ledger_consistent()


def test_twenty_tills_redeeming_the_same_coupon(club):
    member = new_member(0)
    coupon = services.coupon_issue(member=member, kind="campaign", discount_kind="fixed", value=Decimal("10"))

    outcomes = run_in_parallel(lambda index: services.coupon_redeem(
        code=coupon.code, customer=member.customer, order_value="50.00", reference=f"till {index}"))

    assert outcomes == Counter({"ok": 1, CouponAlreadyRedeemed.__name__: 19})
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
    coupon.refresh_from_db()
    assert coupon.redeemed_at is not None


def test_twenty_tills_redeeming_an_offer_with_limits(club):
    offer = Offer.objects.create(title="Free coffee", kind="gift", points_cost=150, per_member_limit=4, total_limit=7)
    members = [new_member(1000), new_member(1000), new_member(300)]  # the last can pay twice only

    outcomes = run_in_parallel(lambda index: services.offer_redeem(member=members[index % 3], offer=offer))

    assert outcomes["ok"] == 7, outcomes
    assert set(outcomes) <= {"ok", LimitReached.__name__, InsufficientPoints.__name__}, outcomes
    offer.refresh_from_db()
    assert offer.redeemed_count == 7 == Coupon.objects.filter(offer=offer).count()
    per_member = Counter(Coupon.objects.filter(offer=offer).values_list("member_id", flat=True))
    assert max(per_member.values()) <= 4
    assert per_member[members[2].pk] <= 2
    assert_ledger_consistent()


def test_twenty_tills_redeeming_every_coupon_of_a_member_at_once(club):
    member = new_member(0)
    coupons = [services.coupon_issue(member=member, kind="campaign", discount_kind="percent", value=Decimal("5"))
               for _ in range(4)]

    outcomes = run_in_parallel(lambda index: services.coupon_redeem(
        code=coupons[index % 4].code, customer=member.customer, order_value="20"))

    assert outcomes == Counter({"ok": 4, CouponAlreadyRedeemed.__name__: 16})
    assert Counter(CouponRedemption.objects.values_list("coupon_id", flat=True)) == Counter({c.pk: 1 for c in coupons})
