"""campaigns' periodic jobs (declared in campaigns.contributions; see core/jobs.py); each is idempotent for its date.

Welcome, birthday and points-expiry messages have no job of their own: the club's jobs
(club.birthdays, club.points_expiry) and enrolment announce them with
club.signals.member_notification, which campaigns.receivers turns into messages.
"""

from datetime import date

from django.utils import timezone


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


def sms_delivery(run_date: date) -> dict:
    from campaigns.services.delivery import sms_delivery_poll

    return sms_delivery_poll(now=timezone.now())


def segments_refresh(run_date: date) -> dict:
    from campaigns.segments import segments_refresh as refresh_all

    return refresh_all()
