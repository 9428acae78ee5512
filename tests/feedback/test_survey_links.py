"""A customer's survey link (feedback.services.survey_links): signed, stable, one invitation per customer and survey."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Invitation
from feedback.services import invitation_create
from feedback.services.survey_links import customer_survey_link, invitation_for_survey_link, survey_link
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _token(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def test_it_opens_a_new_invitation_the_first_time_without_a_second_message(client, survey, customer, django_capture_on_commit_callbacks):
    path = survey_link(survey=survey, customer=customer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(path)
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.customer == customer and invitation.sent_at is not None
    assert callbacks == []  # no invitation_created: campaigns sends nothing, the customer is already there
    assert client.get(response["Location"]).status_code == 200


def test_it_reuses_the_open_invitation_and_only_the_newest_token_works(client, survey, customer):
    first = invitation_create(survey=survey, customer=customer)
    response = client.get(survey_link(survey=survey, customer=customer))
    assert Invitation.objects.count() == 1
    assert client.get(first.path).status_code == 404  # the emailed token was replaced
    assert client.get(response["Location"]).status_code == 200


def test_it_says_already_answered_rather_than_inviting_again(survey, customer):
    first = invitation_create(survey=survey, customer=customer)
    Invitation.objects.filter(pk=first.invitation.pk).update(answered_at=timezone.now())
    opened = invitation_for_survey_link(_token(survey_link(survey=survey, customer=customer)))
    assert opened.invitation.pk == first.invitation.pk and Invitation.objects.count() == 1


def test_it_invites_again_once_the_last_invitation_expired(survey, customer):
    first = invitation_create(survey=survey, customer=customer)
    Invitation.objects.filter(pk=first.invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    opened = invitation_for_survey_link(_token(survey_link(survey=survey, customer=customer)))
    assert opened.invitation.pk != first.invitation.pk and Invitation.objects.count() == 2


@pytest.mark.parametrize("token", ["nonsense", "eyJzIjoxLCJjIjoxfQ:forged:signature"])
def test_it_answers_404_to_a_forged_link_and_writes_nothing(client, token):
    response = client.get(reverse("feedback:survey_link", args=[token]))
    assert response.status_code == 404 and not Invitation.objects.exists()


def test_it_answers_404_when_the_customer_is_gone(client, survey):
    customer = CustomerFactory()
    path = survey_link(survey=survey, customer=customer)
    customer.delete()
    assert client.get(path).status_code == 404 and not Invitation.objects.exists()


def test_it_names_the_pending_survey_of_a_customer_and_nothing_once_answered(survey, customer):
    assert customer_survey_link(customer) is None
    invite = invitation_create(survey=survey, customer=customer)
    found, path = customer_survey_link(customer)
    assert found == survey and path == survey_link(survey=survey, customer=customer)
    Invitation.objects.filter(pk=invite.invitation.pk).update(answered_at=timezone.now())
    assert customer_survey_link(customer) is None
