"""The demo's expiry (`points_expire_due_at_once`): the nightly job's rows, in one statement over all members."""

from datetime import date

import pytest

from club import services
from club.models import PointsTransaction
from tests.club.helpers import give_points, ledger_sum
from tests.helpers import local

pytestmark = pytest.mark.django_db


def _ledgers(make_member, time_machine):
    """Three members: one spent part of an older earning, one spent nothing, one has nothing due."""
    spender, saver, newcomer = make_member(), make_member(), make_member()
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    give_points(spender, 1)  # an adjustment: never expires
    for member in (spender, saver):
        services.points_award(member=member, points=100, source="event", reason="a", idempotency_key=f"a{member.pk}")
    time_machine.move_to(local(2024, 4, 10, 12), tick=False)
    services.points_award(member=spender, points=50, source="event", reason="b", idempotency_key="b")
    services.points_spend(member=spender, points=120, reason="till", idempotency_key="s")
    time_machine.move_to(local(2025, 3, 1, 12), tick=False)
    services.points_award(member=newcomer, points=70, source="event", reason="c", idempotency_key="c")
    return spender, saver, newcomer


def _expired():
    return sorted(PointsTransaction.objects.filter(kind="expire").values_list("member_id", "original_id", "points",
                                                                                "idempotency_key"))


@pytest.mark.parametrize("expire", [services.points_expire_due, services.points_expire_due_at_once],
                         ids=["nightly job", "at once"])
def test_it_writes_the_rows_the_nightly_job_writes(expire, make_member, time_machine):
    members = spender, saver, newcomer = _ledgers(make_member, time_machine)

    assert expire(run_date=date(2025, 4, 11)) == {"members": 2, "rows": 2, "points": 130}
    second = PointsTransaction.objects.get(idempotency_key="b")
    assert _expired() == sorted([
        (spender.pk, second.pk, -30, f"expire:{second.pk}"),
        (saver.pk, PointsTransaction.objects.get(member=saver, kind="earn").pk, -100,
         f"expire:{PointsTransaction.objects.get(member=saver, kind='earn').pk}"),
    ])
    for member in members:
        member.refresh_from_db()
        assert member.points_balance == ledger_sum(member)
    assert [member.points_balance for member in members] == [1, 0, 70]
    assert list(services.points_verify_balances()) == []


def test_a_second_run_at_once_expires_nothing_twice(make_member, time_machine):
    _ledgers(make_member, time_machine)
    services.points_expire_due_at_once(run_date=date(2025, 4, 11))
    again = services.points_expire_due_at_once(run_date=date(2025, 4, 11))
    assert (again["rows"], again["points"]) == (0, 0)
    assert len(_expired()) == 2
