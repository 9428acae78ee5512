"""The club's periodic jobs, registered with crm's job registry (see crm/jobs.py).

Each takes the run date (a local date in TIME_ZONE) and is idempotent.
"""

from datetime import date

from crm.jobs import register_job


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


def register() -> None:
    register_job("club.birthdays", birthdays, schedule={"minute": "5", "hour": "6"},
                 description="Birthday coupons and bonus points for members whose birthday it is (once a year each).")
    register_job("club.points_expiry", points_expiry, schedule={"minute": "15", "hour": "2"},
                 description="Expire what is left of earnings past their expiry (FIFO) and warn members before it happens.")
    register_job("club.points_pending_release", points_pending_release, schedule={"minute": "30", "hour": "2"},
                 description="Make pending purchase points spendable once their holding period is over.")
    register_job("club.tier_review", tier_review, schedule={"minute": "45", "hour": "2"},
                 description="Review every member's tier: upgrades, and downgrades after the grace period.")
