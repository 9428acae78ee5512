"""The points ledger under random sequences of operations (hypothesis state machine).

Each example enrols a member and applies earn (orders, held as pending or not, and bonuses),
redeem (offers and plain spends, with replays of the same idempotency key), expire (the daily
job at a clock moved forward), release of pending points, reverse (a return of some lines or a
full refund) and staff adjustments, in random order, through the real services on the test
database. After every step: the cached balance equals the sum of the ledger, is never negative,
the pending figure equals the pending rows, and the FIFO remainders of the credits add up to
the balance (so expiry can only ever take what is really left). Each example runs in its own
transaction, rolled back at the end.
"""

from collections import Counter
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from itertools import count

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from club import services
from club.exceptions import InsufficientPoints
from club.models import Coupon, Membership, PendingPoints, PointsTransaction
from club.services.common import day_start
from club.selectors import credit_remaining
from crm import services as crm_services
from crm.models import Order
from tests.helpers import member_since
from tests.factories import CustomerFactory
from tests.integrity.helpers import DERANDOMIZE

pytestmark = pytest.mark.django_db

START = datetime(2025, 1, 6, 10, 0, tzinfo=dt_timezone.utc)
EXAMPLES = 50
STEPS = 20
PENDING_DAYS = 7

Kind = PointsTransaction.Kind


class LedgerMachine(RuleBasedStateMachine):
    """One member's points, driven by the club's services; `club` (offers, rule, tier) is set on the class."""

    club: dict = {}
    runs: Counter = Counter()
    orders = Bundle("orders")

    def __init__(self):
        super().__init__()
        # Everything an example writes is rolled back in teardown(), so examples are independent.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._clock = time_machine.travel(START, tick=False)
        self._coordinates = self._clock.start()
        self.keys = count(1)
        self.spends: list[tuple[str, int, int]] = []  # (key, points, ledger row id) of successful spends
        LedgerMachine.runs["examples"] += 1

    def teardown(self):
        try:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)
        finally:
            self._clock.stop()

    @initialize()
    def enrol(self):
        self.member = member_since(services.member_enroll(customer=CustomerFactory()))

    # --- helpers -------------------------------------------------------------------------------

    def figures(self) -> tuple[int, int]:
        balance, pending = Membership.objects.values_list("points_balance", "pending_points").get(pk=self.member.pk)
        return balance, pending

    def step(self, name: str) -> None:
        LedgerMachine.runs["steps"] += 1
        LedgerMachine.runs[name] += 1

    # --- earn --------------------------------------------------------------------------------

    @rule(target=orders, prices=st.lists(st.tuples(st.integers(1, 3), st.integers(1, 150)), min_size=1, max_size=3),
          pending=st.booleans())
    def earn_by_order(self, prices, pending):
        self.step("earn_order")
        balance, held = self.figures()
        lines = [crm_services.LineInput(sku=f"SKU{index}", product_name=f"Item {index}", quantity=quantity,
                                        unit_price=Decimal(price)) for index, (quantity, price) in enumerate(prices)]
        total = sum(quantity * price for quantity, price in prices)
        with override_settings(CLUB_PENDING_DAYS=PENDING_DAYS if pending else 0):
            order = crm_services.order_create(customer=self.member.customer, order_number=f"SM-{next(self.keys)}",
                                              placed_at=timezone.now(), total=Decimal(total), lines=lines)
        if pending:
            assert self.figures() == (balance, held + total)
        else:
            assert self.figures() == (balance + total, held)
        return order

    @rule(points=st.integers(1, 1000))
    def earn_bonus(self, points):
        self.step("earn_bonus")
        balance, held = self.figures()
        services.points_award(member=self.member, points=points, source=PointsTransaction.Source.EVENT, reason="bonus",
                              idempotency_key=f"bonus:{self.member.pk}:{next(self.keys)}")
        assert self.figures() == (balance + points, held)

    @rule(days=st.integers(0, 2 * PENDING_DAYS))
    def release_pending(self, days):
        self.step("release")
        self._coordinates.shift(timedelta(days=days))
        balance, held = self.figures()
        result = services.points_release_pending(run_date=timezone.localdate())
        assert self.figures() == (balance + result["points"], held - result["points"])
        assert not PendingPoints.objects.filter(member=self.member, status=PendingPoints.Status.PENDING,
                                                available_at__lt=timezone.now()).exists()
        # A second run the same day releases nothing more.
        assert services.points_release_pending(run_date=timezone.localdate())["released"] == 0

    # --- redeem ------------------------------------------------------------------------------

    @rule(points=st.integers(1, 300))
    def spend(self, points):
        self.step("spend")
        balance, held = self.figures()
        key = f"spend:{self.member.pk}:{next(self.keys)}"
        if points > balance:
            with pytest.raises(InsufficientPoints):
                services.points_spend(member=self.member, points=points, reason="till", idempotency_key=key)
            assert self.figures() == (balance, held)
            return
        row = services.points_spend(member=self.member, points=points, reason="till", idempotency_key=key)
        self.spends.append((key, points, row.pk))
        assert self.figures() == (balance - points, held)

    @precondition(lambda self: self.spends)
    @rule(data=st.data())
    def replay_spend(self, data):
        """A till retrying a spend with the same key gets the first row back and pays nothing."""
        self.step("replay_spend")
        key, points, row_id = data.draw(st.sampled_from(self.spends))
        before = self.figures()
        row = services.points_spend(member=self.member, points=points, reason="till", idempotency_key=key)
        assert row.pk == row_id and self.figures() == before

    @rule(which=st.sampled_from(["cheap", "dear"]))
    def redeem_offer(self, which):
        self.step("redeem_offer")
        offer = self.club[which]
        balance, held = self.figures()
        coupons = Coupon.objects.filter(member=self.member).count()
        if offer.points_cost > balance:
            with pytest.raises(InsufficientPoints):
                services.offer_redeem(member=self.member, offer=offer)
            assert Coupon.objects.filter(member=self.member).count() == coupons
            assert self.figures() == (balance, held)
            return
        coupon = services.offer_redeem(member=self.member, offer=offer)
        assert coupon.points_transaction.points == -offer.points_cost
        assert self.figures() == (balance - offer.points_cost, held)

    # --- expire ------------------------------------------------------------------------------

    @rule(days=st.integers(1, 400))
    def expire(self, days):
        self.step("expire")
        self._coordinates.shift(timedelta(days=days))
        balance, held = self.figures()
        today = timezone.localdate()
        result = services.points_expire_due(run_date=today)
        assert self.figures() == (balance - result["points"], held)
        # Nothing that expired before today is left, and a rerun expires nothing more.
        cutoff = day_start(today)
        assert all(credit_remaining(credit) == 0
                   for credit in services.credits_with_remaining([self.member.pk]).filter(expires_at__lte=cutoff))
        assert services.points_expire_due(run_date=today)["rows"] == 0

    # --- reverse -----------------------------------------------------------------------------

    @rule(order=orders, data=st.data())
    def reverse(self, order, data):
        """A return of some lines (the returns desk) or a full refund (crm's signal reverses what is left)."""
        self.step("reverse")
        balance, held = self.figures()
        rows_before = set(PointsTransaction.objects.filter(member=self.member, kind=Kind.REVERSE).values_list("pk", flat=True))
        order = Order.objects.get(pk=order.pk)
        if data.draw(st.booleans(), label="full refund"):
            if order.status == Order.Status.REFUNDED:
                return
            crm_services.order_set_status(order=order, status=Order.Status.REFUNDED)
        else:
            lines = list(order.lines.values_list("pk", "quantity"))
            chosen = data.draw(st.lists(st.sampled_from(lines), min_size=1, max_size=len(lines), unique=True), label="lines")
            wanted = {pk: data.draw(st.integers(1, quantity + 1), label="quantity") for pk, quantity in chosen}
            services.points_reverse_for_order(order=order, lines=wanted)
        new_rows = PointsTransaction.objects.filter(member=self.member, kind=Kind.REVERSE).exclude(pk__in=rows_before)
        taken = -(new_rows.aggregate(total=Sum("points"))["total"] or 0)
        new_balance, new_held = self.figures()
        assert new_balance == balance - taken and new_held <= held

    # --- adjust ------------------------------------------------------------------------------

    @rule(points=st.integers(-600, 600).filter(bool))
    def adjust(self, points):
        self.step("adjust")
        balance, held = self.figures()
        if balance + points < 0:
            with pytest.raises(ValidationError):
                services.points_adjust(member=self.member, points=points, reason="correction", by=None)
            assert self.figures() == (balance, held)
            return
        services.points_adjust(member=self.member, points=points, reason="correction", by=None)
        assert self.figures() == (balance + points, held)

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def the_ledger_adds_up(self):
        if not hasattr(self, "member"):
            return
        balance, pending = self.figures()
        assert balance >= 0 and pending >= 0
        # Cached balance == sum of the ledger, pending == the pending rows, shortfall == the reversals' (one query).
        assert not services.points_verify_balances().filter(pk=self.member.pk).exists()
        credits = list(services.credits_with_remaining([self.member.pk]))
        # The FIFO remainders of the credits add up to the balance: expiry can only take what is left.
        assert sum(credit_remaining(credit) for credit in credits) == balance
        # No earning was ever reversed or expired by more than it earned.
        assert all(credit.net >= 0 for credit in credits)
        # A released pending row became exactly one earn row of its points.
        assert not PendingPoints.objects.filter(member_id=self.member.pk, status=PendingPoints.Status.RELEASED) \
            .exclude(released__points=F("points"), released__kind=Kind.EARN).exists()


def test_the_ledger_stays_consistent_whatever_the_order_of_operations(club, capsys):
    LedgerMachine.club = club
    LedgerMachine.runs = Counter()
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None, derandomize=DERANDOMIZE,
        suppress_health_check=[HealthCheck.too_slow],
    ))
    runs = LedgerMachine.runs
    with capsys.disabled():
        print(f"\nledger state machine: {runs['examples']} examples, {runs['steps']} steps: "
              + ", ".join(f"{name} {number}" for name, number in sorted(runs.items()) if name not in ("examples", "steps")))
    assert runs["examples"] >= EXAMPLES
    # Every kind of operation was exercised, not just the first rules.
    assert all(runs[name] > 0 for name in ("earn_order", "earn_bonus", "spend", "redeem_offer", "expire", "reverse",
                                            "adjust", "release", "replay_spend"))
