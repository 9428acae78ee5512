"""After-send hooks are declared per message source (campaigns.services.after_send); the sender
looks up the hooks of each message's source, never for keys in a message's context."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from campaigns import services
from campaigns.models import Automation, Message
from campaigns.services import after_send
from feedback.models import Invitation, Survey
from tests.campaigns.helpers import make_campaign, static_segment
from tests.campaigns.helpers import automation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def calls(monkeypatch):
    """A hook declared for campaigns, recording each batch it is called with."""
    batches = []
    monkeypatch.setitem(after_send.SOURCE_HOOKS, "campaign",
                        after_send.SourceHooks(forget=("secret",), after_send=lambda messages: batches.append(messages)))
    return batches


def started(campaign):
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    return list(campaign.messages.order_by("pk").values_list("pk", flat=True))


def test_a_sources_hook_is_called_once_per_batch_with_its_sent_messages(customers, calls):
    campaign = make_campaign(segments=[static_segment("s", [customers() for _ in range(3)])])
    ids = started(campaign)
    Message.objects.filter(pk=ids[0]).update(context={"secret": "s3cr3t", "keep": 1})

    services.messages_send(message_ids=ids)

    assert len(calls) == 1 and sorted(message.pk for message in calls[0]) == ids
    assert all(message.status == Message.Status.SENT and message.sent_at for message in calls[0])
    assert Message.objects.get(pk=ids[0]).context == {"keep": 1}  # forgotten in the statement that marked it sent


def test_messages_that_were_not_sent_reach_no_hook(customers, calls):
    quiet = customers(email_opt_in=False)
    campaign = make_campaign(segments=[static_segment("s", [quiet])])
    campaign.refresh_from_db()
    services.messages_send(message_ids=started(campaign))
    assert calls == []


def test_an_invitation_id_in_a_campaign_messages_context_calls_nothing_in_feedback(customers):
    """The old sender looked for an "invitation_id" key in any message; only the survey sources declare that hook."""
    person = customers()
    survey = Survey.objects.create(title="Q", kind=Survey.Kind.NPS, trigger=Survey.Trigger.MANUAL)
    invitation = Invitation.objects.create(survey=survey, customer=person, token_hash="x" * 64,
                                           expires_at=timezone.now() + timedelta(days=30))
    campaign = make_campaign(segments=[static_segment("s", [person])])
    ids = started(campaign)
    Message.objects.filter(pk__in=ids).update(context={"invitation_id": invitation.pk, "survey_url": "https://x/f/t/"})
    services.messages_send(message_ids=ids)
    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.sent_at is None
    assert Message.objects.get().context["survey_url"] == "https://x/f/t/"


def test_the_survey_sources_declare_the_invitation_hook():
    for kind in (Automation.Kind.SURVEY_INVITATION, Automation.Kind.POST_PURCHASE):
        hooks = after_send.SOURCE_HOOKS[kind]
        assert hooks.forget == (after_send.SURVEY_URL,) and hooks.after_send is after_send.invitations_mark_sent
    assert "campaign" not in after_send.SOURCE_HOOKS


def test_a_survey_invitation_message_marks_its_invitation_sent(customers, django_capture_on_commit_callbacks):
    from feedback.services import invitation_create

    automation("survey_invitation")
    survey = Survey.objects.create(title="Q", kind=Survey.Kind.NPS, trigger=Survey.Trigger.MANUAL)
    with django_capture_on_commit_callbacks(execute=True):
        new = invitation_create(survey=survey, customer=customers())
    message = Message.objects.get()
    assert message.status == Message.Status.SENT and after_send.SURVEY_URL not in message.context
    assert Invitation.objects.get(pk=new.invitation.pk).sent_at == message.sent_at
