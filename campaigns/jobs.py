"""campaigns' periodic jobs (see crm/jobs.py); each is idempotent for its date.

Welcome, birthday and points-expiry messages have no job of their own: the club's jobs
(club.birthdays, club.points_expiry) and enrolment announce them with
club.signals.member_notification, which campaigns.receivers turns into messages.
"""

from datetime import date

from django.utils import timezone

from crm.jobs import register_job


def dispatch(run_date: date) -> dict:
    from campaigns.services import campaigns_dispatch

    return campaigns_dispatch(now=timezone.now())


def win_back(run_date: date) -> dict:
    from campaigns.services import win_back_run

    return win_back_run(run_date=run_date)


def replenishment(run_date: date) -> dict:
    from campaigns.services import replenishment_run

    return replenishment_run(run_date=run_date)


def post_purchase(run_date: date) -> dict:
    from campaigns.services import post_purchase_run

    return post_purchase_run(run_date=run_date)


def conversions(run_date: date) -> dict:
    from campaigns.services import conversions_catch_up

    return {"converted": conversions_catch_up(run_date=run_date)}


def retention_messages(run_date: date) -> dict:
    from campaigns.privacy import messages_purge

    return messages_purge(run_date=run_date)


def register() -> None:
    register_job("campaigns.dispatch", dispatch, schedule={"minute": "*"},
                 description="Start scheduled campaigns, send A/B winners, sweep dead workers' claims, queue stalled messages.")
    register_job("campaigns.win_back", win_back, schedule={"minute": "0", "hour": "9"},
                 description="Win-back message to customers whose last counted order was N days ago (once per cooldown).")
    register_job("campaigns.replenishment", replenishment, schedule={"minute": "10", "hour": "9"},
                 description="Remind customers when a product they bought is due again, unless they bought it again.")
    register_job("campaigns.post_purchase", post_purchase, schedule={"minute": "20", "hour": "9"},
                 description="Thank-you message N days after an order is fulfilled (once per order).")
    register_job("campaigns.conversions", conversions, schedule={"minute": "40", "hour": "3"},
                 description="Attribute imported orders to the messages that preceded them (conversions).")
    register_job("campaigns.retention_messages", retention_messages, schedule={"minute": "45", "hour": "3"},
                 description="Retention policy: delete messages older than RETENTION_MESSAGES_DAYS (0: keep; in-flight ones stay).")
