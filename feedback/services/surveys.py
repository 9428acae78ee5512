"""Invitations and responses: every write of the survey side of feedback."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from club.models import Membership
from club.services import points_award_for_feedback
from crm import services as crm_services
from core.dates import next_working_day
from crm.models import Customer, Interaction, Order
from core.roles import SUPPORT
from feedback import signals
from feedback.models import Answer, Invitation, Question, Response, Survey, hash_token


class InvitationUnavailable(Exception):
    """The invitation cannot be answered; `reason` is "answered" or "closed"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str

    @property
    def path(self) -> str:
        return reverse("feedback:invitation", args=[self.token])


def _in_cooldown(*, survey: Survey, customer_ids, now: datetime):
    since = now - timedelta(days=survey.cooldown_days)
    return Invitation.objects.filter(survey=survey, customer_id__in=customer_ids, created_at__gte=since)


@transaction.atomic
def invitation_create(
    *,
    survey: Survey,
    customer: Customer,
    order: Order | None = None,
    interaction: Interaction | None = None,
    respect_cooldown: bool = True,
    now: datetime | None = None,
) -> NewInvitation | None:
    """Invite a customer; None when they were invited to this survey within its cooldown."""
    now = now or timezone.now()
    # Lock the customer so two triggers at once cannot both pass the cooldown check.
    Customer.objects.select_for_update().filter(pk=customer.pk).exists()
    if respect_cooldown and _in_cooldown(survey=survey, customer_ids=[customer.pk], now=now).exists():
        return None
    token, token_hash = Invitation.new_token()
    invitation = Invitation.objects.create(
        survey=survey, customer=customer, order=order, interaction=interaction, token_hash=token_hash,
        created_at=now, expires_at=now + timedelta(days=survey.invitation_valid_days),
    )
    transaction.on_commit(lambda: signals.invitation_created.send(sender=Invitation, invitation=invitation, token=token))
    return NewInvitation(invitation=invitation, token=token)


def invitations_for_fulfilled_orders(*, run_date: date) -> int:
    """Daily job: invite the customers whose orders were fulfilled N days before `run_date`
    (N per survey), at most once per customer per survey per cooldown. Rerunning a day
    invites nobody twice (the cooldown sees the first run's invitations)."""
    created = 0
    now = timezone.now()
    for survey in Survey.objects.filter(trigger=Survey.Trigger.ORDER_FULFILLED, is_active=True):
        if not survey.is_open(now):
            continue
        day = run_date - timedelta(days=survey.trigger_delay_days)
        start = timezone.make_aware(datetime.combine(day, time.min))
        recent = Invitation.objects.filter(
            survey=survey, customer=OuterRef("customer"), created_at__gte=now - timedelta(days=survey.cooldown_days)
        )
        # One order per customer (their latest that day), skipping customers in cooldown: one query.
        candidates = (
            Order.objects.filter(status=Order.Status.FULFILLED, fulfilled_at__gte=start, fulfilled_at__lt=start + timedelta(days=1))
            .exclude(Exists(recent))
            .order_by("customer_id", "-fulfilled_at")
            .values_list("customer_id", "pk")
        )
        latest: dict[int, int] = {}
        for customer_id, order_id in candidates:
            latest.setdefault(customer_id, order_id)
        created += _bulk_invite(survey, latest, now)
    return created


@transaction.atomic
def _bulk_invite(survey: Survey, order_by_customer: dict[int, int], now: datetime) -> int:
    rows, tokens = [], []
    for customer_id, order_id in order_by_customer.items():
        token, token_hash = Invitation.new_token()
        tokens.append(token)
        rows.append(Invitation(
            survey=survey, customer_id=customer_id, order_id=order_id, token_hash=token_hash, created_at=now,
            expires_at=now + timedelta(days=survey.invitation_valid_days),
        ))
    Invitation.objects.bulk_create(rows, batch_size=1000)
    created = Invitation.objects.filter(token_hash__in=[row.token_hash for row in rows])
    by_hash = {hash_token(token): token for token in tokens}

    def announce():
        for invitation in created:
            signals.invitation_created.send(sender=Invitation, invitation=invitation, token=by_hash[invitation.token_hash])

    transaction.on_commit(announce)
    return len(rows)


def invite_after_resolved_interaction(*, interaction: Interaction, **kwargs) -> None:
    """Receiver of crm.signals.interaction_resolved."""
    for survey in Survey.objects.filter(trigger=Survey.Trigger.INTERACTION_RESOLVED, is_active=True):
        if survey.is_open():
            invitation_create(survey=survey, customer=interaction.customer, interaction=interaction)


def invitation_for_token(token: str) -> Invitation:
    """The invitation of a link; raises Invitation.DoesNotExist for an unknown or malformed token."""
    if not token or len(token) > 100:
        raise Invitation.DoesNotExist
    return Invitation.objects.select_related("survey", "customer").get(token_hash=hash_token(token))


def invitation_check_open(invitation: Invitation, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if invitation.answered_at:
        raise InvitationUnavailable("answered")
    if invitation.expires_at <= now or not invitation.survey.is_open(now):
        raise InvitationUnavailable("closed")


def invitation_mark_opened(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=timezone.now())


def invitation_mark_sent(*, invitation_ids, at: datetime | None = None) -> int:
    return Invitation.objects.filter(pk__in=invitation_ids, sent_at__isnull=True).update(sent_at=at or timezone.now())


@transaction.atomic
def response_submit(
    *,
    survey: Survey,
    answers: dict[Question, object],
    invitation: Invitation | None = None,
    language: str = "",
) -> Response:
    """Store a validated set of answers (see feedback.forms.SurveyForm), once per invitation.

    A detractor (NPS 0-6) or an unhappy CSAT (1-2) opens a follow-up interaction for support."""
    now = timezone.now()
    customer = None
    if invitation is not None:
        # The conditional UPDATE is what makes a token single-use, even for two submits at once.
        claimed = Invitation.objects.filter(pk=invitation.pk, answered_at__isnull=True, expires_at__gt=now).update(answered_at=now)
        if not claimed:
            invitation.refresh_from_db()
            raise InvitationUnavailable("answered" if invitation.answered_at else "closed")
        customer = invitation.customer
    response = Response.objects.create(
        survey=survey, invitation=invitation, customer=customer, language=language or translation.get_language() or "",
        submitted_at=now,
    )
    for question, value in answers.items():
        _store_answer(response, question, value)
    if customer is not None and _is_unhappy(answers):
        response.follow_up = _open_follow_up(response, answers)
        response.save(update_fields=["follow_up"])
    if customer is not None:
        _reward(customer, response)
    signals.response_submitted.send(sender=Response, response=response)
    return response


def _reward(customer: Customer, response: Response) -> None:
    """Answering earns points through the club's "feedback answered" rule, once per response."""
    member = Membership.objects.filter(customer=customer, status=Membership.Status.ACTIVE).first()
    if member is not None:
        points_award_for_feedback(member=member, response_ref=f"response:{response.pk}")


def _store_answer(response: Response, question: Question, value) -> None:
    if _is_blank(value):
        return
    answer = Answer(response=response, question=question)
    if question.type in (Question.Type.NPS, Question.Type.RATING):
        answer.number = int(value)
    elif question.has_choices:
        answer.save()
        answer.choices.set(list(value) if isinstance(value, Iterable) else [value])
        return
    else:
        answer.text = str(value)
    answer.save()


def _is_blank(value) -> bool:
    if value is None or value == "":
        return True
    return isinstance(value, Iterable) and not isinstance(value, str) and not list(value)


def _score(answers: dict[Question, object], kind: str) -> int | None:
    for question, value in answers.items():
        if question.scores == kind and not _is_blank(value):
            return int(value)
    return None


def _is_unhappy(answers: dict[Question, object]) -> bool:
    nps, csat = _score(answers, Question.Score.NPS), _score(answers, Question.Score.CSAT)
    return (nps is not None and nps <= 6) or (csat is not None and csat <= 2)


def _open_follow_up(response: Response, answers: dict[Question, object]) -> Interaction:
    """Support's follow-up, worded in each staff language (crm.Interaction.wording): a Persian agent reads the
    survey's title, its questions and the chosen answers in Persian, an English one in English."""
    nps, csat = _score(answers, Question.Score.NPS), _score(answers, Question.Score.CSAT)
    scores = ", ".join(filter(None, [f"NPS {nps}" if nps is not None else "", f"CSAT {csat}" if csat is not None else ""]))
    wording = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            headline = _("Unhappy feedback on %(survey)s") % {"survey": response.survey.title}
            wording[language] = {
                "subject": f"{headline} ({scores})"[:200],
                "body": "\n".join(f"{question.text}: {_display(question, value)}"
                                  for question, value in answers.items() if not _is_blank(value)),
            }
    default = wording[settings.LANGUAGE_CODE]
    return crm_services.interaction_log(
        customer=response.customer,
        subject=default["subject"],
        body=default["body"],
        wording=wording,
        channel=Interaction.Channel.OTHER,
        direction=Interaction.Direction.INBOUND,
        status=Interaction.Status.OPEN,
        staff=_follow_up_assignee(),
        follow_up_on=next_working_day(timezone.localdate()),
        order=response.invitation.order if response.invitation else None,
    )


def _display(question: Question, value) -> str:
    if question.has_choices:
        values = list(value) if isinstance(value, Iterable) else [value]
        return ", ".join(str(choice) for choice in values)
    return str(value)


def _follow_up_assignee():
    """The active support agent with the fewest open follow-ups (None when there is none)."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, groups__name=SUPPORT)
        .annotate(open_items=Count("interactions", filter=~Q(interactions__status=Interaction.Status.RESOLVED)))
        .order_by("open_items", "pk")
        .first()
    )
