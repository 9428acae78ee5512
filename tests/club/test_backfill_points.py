"""`club_backfill_points [--since DATE] [--dry-run] [--json]`: orders written while no purchase rule was
on earn nothing; once a rule is on, the backfill credits what they should have earned, through the
path new orders take (club.services.purchases.points_backfill), and only once."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from club import services as club_services
from club.models import Membership, PointsTransaction
from tests.club.helpers import ledger_sum
from tests.factories import CustomerFactory, EarningRuleFactory
from tests.helpers import member_since

pytestmark = pytest.mark.django_db


@pytest.fixture
def purchase_rule(db):
    """One point per unit spent, coffee counts double; switched off, as before imports earned points."""
    return EarningRuleFactory(enabled=False, category_multipliers={"coffee": 2})


@pytest.fixture
def history(member, purchase_rule, place_order, order_with_lines):
    """Orders written while the rule was off: Sara (of two years' standing) has two counted orders and a
    cancelled one, Omid (who joined ten days ago) one order from before joining and one after, Nima (not
    a member) one."""
    omid = member_since(club_services.member_enroll(customer=CustomerFactory(email="omid@example.com")), days=10)
    nima = CustomerFactory(email="nima@example.com")
    place_order(member.customer, order_number="S-OLD", days_ago=20, total="100.00")
    order_with_lines(member.customer, order_number="S-LINES", days_ago=5)  # 2 x beans (coffee) at 100, a mug at 100
    place_order(member.customer, order_number="S-CANCELLED", days_ago=3, total="80.00", status="cancelled")
    place_order(omid.customer, order_number="O-BEFORE", days_ago=20, total="60.00")
    place_order(omid.customer, order_number="O-AFTER", days_ago=2, total="40.00")
    place_order(nima, order_number="N-1", days_ago=2, total="30.00")
    assert not PointsTransaction.objects.exists()  # no rule on: nothing earned
    purchase_rule.enabled = True
    purchase_rule.save()
    return {"sara": member, "omid": omid}


def backfill(*args) -> dict:
    out = io.StringIO()
    call_command("club_backfill_points", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def ledger() -> list[tuple]:
    return sorted(PointsTransaction.objects.values_list("member__customer__email", "order__order_number", "kind", "points"))


def balances() -> dict:
    return dict(Membership.objects.values_list("customer__email", "points_balance"))


def test_it_credits_what_the_orders_should_have_earned_once_and_a_dry_run_writes_nothing(history):
    dry = backfill("--dry-run")
    assert dry == {"orders_examined": 3, "orders_credited": 3, "points": 640, "members": 2, "dry_run": True}
    assert ledger() == [] and balances() == {"sara@example.com": 0, "omid@example.com": 0}

    real = backfill()

    assert real == {**dry, "dry_run": False}
    # S-LINES: beans 200 x 2 (coffee) + mug 100; the cancelled order, the order from before Omid
    # joined and the non-member's order never earn.
    assert ledger() == [
        ("omid@example.com", "O-AFTER", "earn", 40),
        ("sara@example.com", "S-LINES", "earn", 500),
        ("sara@example.com", "S-OLD", "earn", 100),
    ]
    for member in history.values():
        member.refresh_from_db()
        assert member.points_balance == ledger_sum(member)
    assert balances() == {"sara@example.com": 600, "omid@example.com": 40}
    assert history["sara"].tier.name == "Silver"  # 600 earned in the window: the same tier move as a new order

    again = backfill()

    assert again == {"orders_examined": 0, "orders_credited": 0, "points": 0, "members": 0, "dry_run": False}
    assert len(ledger()) == 3 and balances() == {"sara@example.com": 600, "omid@example.com": 40}


def test_it_says_in_words_what_it_would_credit_and_what_it_credited(history):
    out = io.StringIO()
    call_command("club_backfill_points", "--dry-run", stdout=out)
    assert out.getvalue().strip() == (
        "Would credit 640 points on 3 order(s) to 2 member(s); 3 order(s) without purchase points examined.")
    assert not PointsTransaction.objects.exists()

    out = io.StringIO()
    call_command("club_backfill_points", stdout=out)
    assert out.getvalue().strip() == (
        "Credited 640 points on 3 order(s) to 2 member(s); 3 order(s) without purchase points examined.")


def test_since_limits_it_to_orders_placed_on_or_after_that_day(history):
    since = (timezone.localdate() - timedelta(days=10)).isoformat()

    assert backfill("--since", since) == {
        "orders_examined": 2, "orders_credited": 2, "points": 540, "members": 2, "dry_run": False}
    assert [number for _email, number, _kind, _points in ledger()] == ["O-AFTER", "S-LINES"]

    # The older order, later: credited at the tier the member has by then (Silver, x 1.25), as an
    # order arriving now would be.
    assert backfill()["points"] == 125
    assert ledger()[-1] == ("sara@example.com", "S-OLD", "earn", 125)


@pytest.mark.parametrize("since", ["2024-13-01", "yesterday", "01/02/2024", ""])
def test_a_bad_since_date_is_a_clear_error_and_credits_nothing(history, since):
    if since == "":
        # An empty --since means no limit, like leaving it out.
        assert backfill("--since", since, "--dry-run")["orders_examined"] == 3
        return
    with pytest.raises(CommandError, match=f'--since "{since}" is not a date \\(YYYY-MM-DD\\)') as error:
        call_command("club_backfill_points", "--since", since, stdout=io.StringIO())
    assert error.value.returncode == 2
    assert not PointsTransaction.objects.exists()


def test_a_dry_run_credits_exactly_what_the_real_run_does_when_a_member_s_orders_lift_its_tier(
        history, purchase_rule, place_order, monkeypatch):
    """Each member's orders are credited together, whatever the chunk size: a dry run (each chunk rolled back)
    and a real run (each chunk committed, tiers moving) agree, as a file's import would credit them."""
    from club.services import purchases

    purchase_rule.enabled = False
    purchase_rule.save()
    place_order(history["sara"].customer, order_number="S-LATER", days_ago=1, total="100.00")
    purchase_rule.enabled = True
    purchase_rule.save()
    monkeypatch.setattr(purchases, "BACKFILL_CHUNK", 1)  # a chunk per order, were members split

    dry = backfill("--dry-run")
    real = backfill()

    assert real == {**dry, "dry_run": False}
    # Sara's three orders earn at the tier she had before the backfill; she reaches Silver with them.
    assert dry["points"] == 100 + 500 + 100 + 40 and dry["members"] == 2
    history["sara"].refresh_from_db()
    assert history["sara"].tier.name == "Silver"
