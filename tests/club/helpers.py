"""Helpers shared by the club's tests (the club fixtures, `tiers`, `member`..., are in tests/conftest.py)."""

from club import services


def give_points(member, points: int):
    return services.points_adjust(member=member, points=points, reason="test credit", by=None)


def ledger_sum(member) -> int:
    return sum(member.transactions.values_list("points", flat=True))
