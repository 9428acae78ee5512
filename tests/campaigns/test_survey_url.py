"""{{ survey_url }} in campaigns and automations: the survey the customer has not answered yet."""

import pytest
from django.core import mail
from django.test import Client

from feedback.models import Invitation
from feedback.services import invitation_create
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
