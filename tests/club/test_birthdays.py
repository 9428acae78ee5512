"""Birthday rewards: once per member per year, however often the job runs."""

from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from club import services
from club.models import BirthdayReward, Coupon, EarningRule, MemberNotice, PointsTransaction
from core.tasks import run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def birthday_member(make_member):
    return make_member(birth_date=date(1990, 3, 10))


def test_the_job_gives_one_coupon_however_often_it_runs(birthday_member, make_member, tiers):
    EarningRule.objects.create(name="Birthday bonus", kind="birthday", points=100)
    make_member(birth_date=date(1990, 3, 11))  # not today
    for _ in range(3):
        call_command("run_job", "club.birthdays", "--date", "2025-03-10", stdout=StringIO())
    run_job.apply(kwargs={"name": "club.birthdays", "date_iso": "2025-03-10"})  # a retried / redelivered task
    coupon = Coupon.objects.get()
    assert coupon.member == birthday_member and coupon.kind == "birthday"
    assert (coupon.discount_kind, coupon.value) == ("percent", Decimal("10"))  # Bronze's birthday discount
    assert BirthdayReward.objects.get().year == 2025
    assert PointsTransaction.objects.filter(source="birthday").count() == 1
    assert MemberNotice.objects.filter(kind="birthday").count() == 1
    birthday_member.refresh_from_db()
    assert birthday_member.points_balance == 100


def test_the_coupon_value_comes_from_the_tier(birthday_member, tiers, admin_user):
    services.tier_set(member=birthday_member, tier=tiers["platinum"], by=admin_user, note="test")
    services.birthday_rewards_run(run_date=date(2025, 3, 10))
    coupon = Coupon.objects.get()
    assert (coupon.discount_kind, coupon.value) == ("fixed", Decimal("50"))


def test_next_year_brings_a_new_coupon(birthday_member):
    services.birthday_rewards_run(run_date=date(2025, 3, 10))
    services.birthday_rewards_run(run_date=date(2026, 3, 10))
    assert sorted(BirthdayReward.objects.values_list("year", flat=True)) == [2025, 2026]


@pytest.mark.parametrize("run_date, rewarded", [
    (date(2025, 2, 28), True),   # not a leap year: 28 February
    (date(2025, 3, 1), False),
    (date(2024, 2, 28), False),  # leap year: on the day itself
    (date(2024, 2, 29), True),
])
def test_members_born_on_29_february(make_member, run_date, rewarded):
    make_member(birth_date=date(1992, 2, 29))
    services.birthday_rewards_run(run_date=run_date)
    assert Coupon.objects.exists() == rewarded


def test_the_days_before_setting_sends_it_early_and_counts_the_birthday_year(make_member, settings):
    settings.CLUB_BIRTHDAY_DAYS_BEFORE = 3
    make_member(birth_date=date(1980, 1, 2))
    assert services.birthday_rewards_run(run_date=date(2024, 12, 29)) == {"birthday": "2025-01-01", "rewarded": 0}
    assert services.birthday_rewards_run(run_date=date(2024, 12, 30))["rewarded"] == 1
    assert services.birthday_rewards_run(run_date=date(2024, 12, 30))["rewarded"] == 0
    assert BirthdayReward.objects.get().year == 2025


def test_the_birthday_is_the_local_date_in_the_time_zone(make_member, settings, time_machine):
    settings.TIME_ZONE = "Asia/Tehran"  # UTC+03:30
    make_member(birth_date=date(1990, 3, 10))
    time_machine.move_to(datetime(2025, 3, 9, 20, 0, tzinfo=dt_timezone.utc), tick=False)  # 23:30 on 9 March in Tehran
    run_job.apply(kwargs={"name": "club.birthdays"})
    assert not Coupon.objects.exists()
    time_machine.move_to(datetime(2025, 3, 9, 21, 0, tzinfo=dt_timezone.utc), tick=False)  # 00:30 on 10 March in Tehran
    run_job.apply(kwargs={"name": "club.birthdays"})
    assert Coupon.objects.count() == 1


def test_suspended_members_and_tiers_without_a_discount_get_no_coupon(birthday_member, make_member, tiers):
    tiers["bronze"].birthday_discount_value = 0
    tiers["bronze"].save()
    suspended = make_member(birth_date=date(1991, 3, 10))
    services.member_set_status(member=suspended, status="suspended")
    services.birthday_rewards_run(run_date=date(2025, 3, 10))
    assert not Coupon.objects.exists()
    assert list(BirthdayReward.objects.values_list("member", flat=True)) == [birthday_member.pk]


def test_the_members_due_are_selected_in_one_query(make_member, django_assert_num_queries):
    for day in (10, 10, 11):
        make_member(birth_date=date(1990, 3, day))
    with django_assert_num_queries(1):
        assert len(list(services.members_due_birthday(date(2025, 3, 10)))) == 2
