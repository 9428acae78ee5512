"""{{ survey_url }} in campaigns and automations: the survey the campaign chose, else the one the customer has not
answered yet."""

import pytest
from django.core import mail
from django.test import Client

from campaigns.admin.campaign_forms import CampaignForm
from feedback.models import Invitation
from feedback.services import invitation_create
from tests.factories import SurveyFactory
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def test_it_links_each_recipient_to_their_pending_survey_and_leaves_the_others_out(customers, survey,
                                                                                  django_capture_on_commit_callbacks):
    invited, other = customers(first_name="Sara"), customers(first_name="Nima")
    invitation_create(survey=survey, customer=invited)
    campaign = make_campaign(segments=[static_segment("s", [invited, other])],
                             body_en='<p>{% if survey_url %}survey {{ survey_url }} ({{ survey }}){% else %}no survey{% endif %}</p>')
    send_everything(django_capture_on_commit_callbacks, campaign)
    bodies = {email.to[0]: email.body for email in mail.outbox}
    assert "no survey" in bodies[other.email] and "How did we do?" in bodies[invited.email]
    link = bodies[invited.email].split("survey ", 1)[1].split()[0]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    response = Client().get(path)
    assert response.status_code == 302  # on to the survey, through the same invitation
    assert Invitation.objects.filter(customer=invited).count() == 1


def _link_in(body: str) -> str:
    link = body.split("survey ", 1)[1].split()[0]
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def test_a_campaign_that_chooses_a_survey_links_every_recipient_to_it_in_their_language(
        customers, survey, django_capture_on_commit_callbacks):
    other_survey = SurveyFactory(title="Store visit", title_fa="بازدید از فروشگاه")
    invited, fresh = customers(first_name="Sara", language="fa"), customers(first_name="Nima")
    invitation_create(survey=other_survey, customer=invited)  # pending elsewhere: the campaign's choice wins
    campaign = make_campaign(segments=[static_segment("s", [invited, fresh])], survey=survey,
                             body_en="<p>survey {{ survey_url }} ({{ survey }})</p>",
                             body_fa="<p>survey {{ survey_url }} ({{ survey }})</p>")
    send_everything(django_capture_on_commit_callbacks, campaign)
    bodies = {email.to[0]: email.body for email in mail.outbox}
    assert "How did we do?" in bodies[fresh.email] and "نظر شما چیست؟" in bodies[invited.email]  # their language
    assert "Store visit" not in bodies[invited.email] and "بازدید" not in bodies[invited.email]
    for customer in (invited, fresh):
        assert Client().get(_link_in(bodies[customer.email])).status_code == 302
        assert Invitation.objects.get(customer=customer, survey=survey)  # the link opened the chosen survey


def test_only_an_active_survey_can_be_chosen(survey):
    choices = CampaignForm().fields["survey"].queryset
    assert choices.filter(pk=survey.pk).exists()
    survey.is_active = False
    survey.save()
    assert not choices.all().filter(pk=survey.pk).exists()
