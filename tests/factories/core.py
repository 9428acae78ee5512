"""Factories for the platform's own rows: staff users, their preferences, job runs."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.models import JobRun, StaffPreference


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct horse battery staple")


class StaffPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffPreference
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    language = "fa"


class JobRunFactory(factory.django.DjangoModelFactory):
    """A finished run of a job; a run in progress is `status=JobRun.Status.RUNNING, finished_at=None`."""

    class Meta:
        model = JobRun

    job = "club.points_expire"
    run_date = factory.LazyFunction(timezone.localdate)
    source = JobRun.Source.MANUAL
    status = JobRun.Status.SUCCEEDED
    summary = factory.LazyFunction(dict)
    finished_at = factory.LazyFunction(timezone.now)
