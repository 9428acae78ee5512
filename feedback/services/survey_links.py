"""A customer's survey link that staff can copy and campaigns can send: signed, stable, reusable.

An invitation's own link carries a raw token that is stored only hashed, so nobody can show it
again once it was sent. This link instead names the survey and the customer, signed; opening it
hands the customer an invitation: their open one for that survey (with a fresh token, which
makes the last link sent for it the only one that works) or a new one. Whoever answers once
sees "already answered" on a second open, as with any invitation.

Which survey a customer's link is for, when nobody chose one: their pending invitation's survey
(open, unanswered, not expired), the one support and marketing would ask them to finish.
"""

from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer
from feedback.models import Invitation, Survey
from feedback.services.surveys import NewInvitation

SURVEY_LINK_SALT = "feedback.survey-link"
# Long enough for a campaign read weeks later; the survey's own dates and each invitation's
# validity still decide whether it can be answered.
SURVEY_LINK_MAX_AGE = timedelta(days=180)


def survey_link(*, survey: Survey, customer: Customer) -> str:
    """The path of the customer's link to `survey`."""
    token = signing.dumps({"s": survey.pk, "c": customer.pk}, salt=SURVEY_LINK_SALT, compress=True)
    return reverse("feedback:survey_link", args=[token])


def pending_invitations(customer_ids) -> dict[int, Invitation]:
    """{customer id: their newest open, unanswered, unexpired invitation}, in one query."""
    pending = {}
    rows = (Invitation.objects.filter(customer_id__in=list(customer_ids), answered_at__isnull=True,
                                      expires_at__gt=timezone.now(), survey__is_active=True)
            .select_related("survey").order_by("customer_id", "-created_at"))
    for invitation in rows:
        pending.setdefault(invitation.customer_id, invitation)
    return pending


def customer_survey_link(customer: Customer) -> tuple[Survey, str] | None:
    """(survey, path) of the customer's pending survey, or None when nothing waits for an answer."""
    invitation = pending_invitations([customer.pk]).get(customer.pk)
    return (invitation.survey, survey_link(survey=invitation.survey, customer=customer)) if invitation else None


@transaction.atomic
def invitation_for_survey_link(token: str) -> NewInvitation:
    """The invitation a survey link opens, with a raw token to redirect to. Raises
    Invitation.DoesNotExist for a bad, forged or stale link, or a survey or customer that is gone."""
    try:
        data = signing.loads(token, salt=SURVEY_LINK_SALT, max_age=SURVEY_LINK_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        raise Invitation.DoesNotExist from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) or not isinstance(data.get("c"), int):
        raise Invitation.DoesNotExist
    survey = Survey.objects.filter(pk=data["s"]).first()
    customer = Customer.objects.filter(pk=data["c"]).first()
    if survey is None or customer is None:
        raise Invitation.DoesNotExist
    # The newest invitation of the customer to this survey, answered or not: an answered one
    # shows "already answered" rather than inviting them again.
    latest = (Invitation.objects.select_for_update().filter(survey=survey, customer=customer)
              .order_by("-created_at").first())
    if latest is not None and (latest.answered_at or latest.expires_at > timezone.now()):
        raw, token_hash = Invitation.new_token()
        Invitation.objects.filter(pk=latest.pk).update(token_hash=token_hash)
        latest.token_hash = token_hash
        return NewInvitation(invitation=latest, token=raw)
    # Not invitation_create: its invitation_created signal has campaigns send the customer an
    # invitation message, and this customer is already on the survey. Delivered by the link itself.
    raw, token_hash = Invitation.new_token()
    now = timezone.now()
    invitation = Invitation.objects.create(survey=survey, customer=customer, token_hash=token_hash, created_at=now,
                                           sent_at=now, expires_at=now + timedelta(days=survey.invitation_valid_days))
    return NewInvitation(invitation=invitation, token=raw)
