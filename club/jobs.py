"""The club's periodic jobs, declared in club.contributions (the registry: core/jobs.py).

Each takes the run date (a local date in TIME_ZONE) and is idempotent.
"""

from datetime import date


def birthdays(run_date: date) -> dict:
    from club.services import birthday_rewards_run

    return birthday_rewards_run(run_date=run_date)


def points_expiry(run_date: date) -> dict:
    from club.services import points_expire_due, points_warn_expiring

    return {"expired": points_expire_due(run_date=run_date), "warned": points_warn_expiring(run_date=run_date)}


def points_pending_release(run_date: date) -> dict:
    from club.services import points_release_pending

    return points_release_pending(run_date=run_date)


def tier_review(run_date: date) -> dict:
    from club.services import tiers_review

    return tiers_review(run_date=run_date)


def liability_snapshot(run_date: date) -> dict:
    from club.services import liability_snapshot_nightly

    return liability_snapshot_nightly(run_date=run_date)
