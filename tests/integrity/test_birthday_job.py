"""The birthday job through its Celery task: three runs, a redelivered message and two workers at
once still give each member exactly one coupon (and one bonus) for the year."""

import threading
from datetime import date

import pytest
from django.db import connection
from django.db.models import Count

from club import services
from club.models import BirthdayReward, Coupon, EarningRule, MemberNotice, PointsTransaction
from core.tasks import run_job
from tests.factories import CustomerFactory

RUN = {"name": "club.birthdays", "date_iso": "2025-03-10"}
CELEBRATING = 6


@pytest.fixture
def members(club):
    EarningRule.objects.create(name="Birthday bonus", kind=EarningRule.Kind.BIRTHDAY, points=100)
    born = [services.member_enroll(customer=CustomerFactory(birth_date=date(1980 + index, 3, 10)))
            for index in range(CELEBRATING)]
    services.member_enroll(customer=CustomerFactory(birth_date=date(1990, 3, 11)))  # tomorrow: nothing today
    return born


def assert_one_reward_each(members) -> None:
    per_member = dict(Coupon.objects.filter(kind=Coupon.Kind.BIRTHDAY).values_list("member").annotate(n=Count("pk")))
    assert per_member == {member.pk: 1 for member in members}
    assert BirthdayReward.objects.filter(year=2025).count() == CELEBRATING
    assert PointsTransaction.objects.filter(source=PointsTransaction.Source.BIRTHDAY).count() == CELEBRATING
    assert MemberNotice.objects.filter(kind="birthday").count() == CELEBRATING
    assert not services.points_verify_balances().exists()


@pytest.mark.django_db
def test_three_runs_and_a_redelivered_task_give_one_coupon_per_member(members):
    summaries = [run_job.apply(kwargs=RUN).get() for _ in range(3)]
    # The broker hands the same message (same task id) to a worker twice, e.g. after a lost ack.
    summaries += [run_job.apply(kwargs=RUN, task_id="birthdays-2025-03-10").get() for _ in range(2)]
    assert [summary["rewarded"] for summary in summaries] == [CELEBRATING, 0, 0, 0, 0]
    assert_one_reward_each(members)


@pytest.mark.django_db
def test_next_year_the_same_members_get_a_new_coupon(members):
    run_job.apply(kwargs=RUN)
    run_job.apply(kwargs=RUN | {"date_iso": "2026-03-10"})
    run_job.apply(kwargs=RUN | {"date_iso": "2026-03-10"})
    assert BirthdayReward.objects.filter(year=2026).count() == CELEBRATING
    assert Coupon.objects.filter(kind=Coupon.Kind.BIRTHDAY).count() == 2 * CELEBRATING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_running_the_job_at_the_same_moment_give_one_coupon_per_member(members, workers):
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(run_job.apply(kwargs=RUN, task_id="birthdays-2025-03-10").get()["rewarded"])
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(results) == CELEBRATING and len(results) == workers
    assert_one_reward_each(members)
