"""A campaign's life: draft -> scheduled -> sending -> sent, or cancelled.

Every transition is one of these functions; each locks the campaign row and refuses a
transition that is not allowed with a message that says why, and records who made it and
from where (a CampaignEvent, in the same transaction; `by` is None for the dispatcher). Starting a campaign freezes
its audience into one Message row per recipient (set-based: one SELECT streamed into
bulk INSERTs) and queues the sending tasks after commit.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Count, Q, Value
from django.db.models.functions import Cast, Concat, MD5
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import rendering
from campaigns.models import Campaign, CampaignEvent, ChannelChoice, Message
from campaigns.services import content
from campaigns.selectors.audience import (
    AudienceCounts, campaign_audience, campaign_holdout, eligibility_counts, with_eligibility,
)
from campaigns.services.events import campaign_event_record
from campaigns.services.sending import (
    campaign_refresh_counts, enqueue_send, messages_sweep_stale, queued_message_ids,
)

log = logging.getLogger(__name__)

MAX_VARIANTS = 4
INSERT_BATCH = 1000

Status = Campaign.Status
Event = CampaignEvent.Kind
TRANSITIONS = {
    Status.DRAFT: {Status.SCHEDULED, Status.CANCELLED},
    Status.SCHEDULED: {Status.DRAFT, Status.SENDING, Status.CANCELLED},
    Status.SENDING: {Status.SENT, Status.CANCELLED},
    Status.SENT: {Status.SENDING},  # only to resend the failed ones
    Status.CANCELLED: set(),
}


def _transition(campaign: Campaign, to: str, *, allowed_from: set | None = None, **changes) -> Campaign:
    current = Campaign.objects.select_for_update().values_list("status", flat=True).get(pk=campaign.pk)
    allowed = TRANSITIONS[current] if allowed_from is None else (TRANSITIONS[current] & {to} if current in allowed_from else set())
    if to not in allowed:
        raise ValidationError(
            _("A campaign that is %(current)s cannot become %(new)s.")
            % {"current": Status(current).label.lower(), "new": Status(to).label.lower()},
            code="invalid_transition",
        )
    Campaign.objects.filter(pk=campaign.pk, status=current).update(status=to, updated_at=timezone.now(), **changes)
    campaign.refresh_from_db()
    return campaign


# --- checks -----------------------------------------------------------------------------------


def campaign_check_ready(campaign: Campaign) -> None:
    """Everything a send needs: a target, content for the channel, valid templates, a sane A/B split."""
    errors = []
    if not campaign.segments.exists():
        errors.append(_("Choose at least one target segment."))
    variants = list(campaign.variants.all())
    if len(variants) > MAX_VARIANTS:
        errors.append(_("A campaign has at most %(n)s variants.") % {"n": MAX_VARIANTS})
    if variants and sum(variant.split_percent for variant in variants) != 100:
        errors.append(_("The variants' shares must add up to 100%% (they add up to %(total)s%%).")
                      % {"total": sum(variant.split_percent for variant in variants)})
    if campaign.winner_after_hours is not None and len(variants) < 2:
        errors.append(_("Sending the winner needs at least two variants."))
    wanted = {
        ChannelChoice.EMAIL: (("subject", _("an email subject")), ("body", _("an email body"))),
        ChannelChoice.SMS: (("sms_text", _("an SMS text")),),
        ChannelChoice.PREFERRED: (("subject", _("an email subject")), ("body", _("an email body")),
                                  ("sms_text", _("an SMS text"))),
    }[campaign.channel]
    for variant in variants or [None]:
        templates = content.campaign_templates(campaign, variant, content.FALLBACK_LANGUAGE)
        for field, label in wanted:
            if not templates[field]:
                where = _("variant %(label)s") % {"label": variant.label} if variant else _("the campaign")
                errors.append(_("Write %(what)s in English for %(where)s (other languages fall back to it).")
                              % {"what": label, "where": where})
    for template in content.all_templates(campaign):
        try:
            rendering.validate_template(template)
        except ValidationError as error:
            errors.extend(error.messages)
    if campaign.offer_id and not campaign.offer.is_active:
        errors.append(_("The offer %(offer)s is not active.") % {"offer": campaign.offer})
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))


def variants_validate(splits: list[tuple[str, int]]) -> None:
    """For admin formsets: at most four variants, each label once, shares adding up to 100."""
    if len(splits) > MAX_VARIANTS:
        raise ValidationError(_("A campaign has at most %(n)s variants.") % {"n": MAX_VARIANTS})
    labels = [label for label, _share in splits]
    if len(set(labels)) != len(labels):
        raise ValidationError(_("Each variant label can be used once."))
    if splits and sum(share for _label, share in splits) != 100:
        raise ValidationError(_("The variants' shares must add up to 100%% (they add up to %(total)s%%).")
                              % {"total": sum(share for _label, share in splits)})


# --- transitions ------------------------------------------------------------------------------


@transaction.atomic
def campaign_schedule(*, campaign: Campaign, at: datetime | None = None, by=None) -> Campaign:
    """Draft -> scheduled, to start at `at` (now when empty or past: the start is queued at once)."""
    campaign = _schedule(campaign, at)
    campaign_event_record(campaign=campaign, kind=Event.SCHEDULED, by=by, at=campaign.scheduled_at.isoformat())
    return campaign


def _schedule(campaign: Campaign, at: datetime | None) -> Campaign:
    campaign_check_ready(campaign)
    now = timezone.now()
    at = at or now
    campaign = _transition(campaign, Status.SCHEDULED, allowed_from={Status.DRAFT}, scheduled_at=at)
    if at <= now:
        _queue_start(campaign)
    return campaign


@transaction.atomic
def campaign_send_now(*, campaign: Campaign, by=None) -> Campaign:
    """A draft or a scheduled campaign starts now."""
    campaign_check_ready(campaign)
    current = Campaign.objects.select_for_update().values_list("status", flat=True).get(pk=campaign.pk)
    if current == Status.SCHEDULED:
        Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now())
        campaign.refresh_from_db()
        _queue_start(campaign)
    else:
        campaign = _schedule(campaign, timezone.now())
    campaign_event_record(campaign=campaign, kind=Event.SEND_NOW, by=by)
    return campaign


@transaction.atomic
def campaign_unschedule(*, campaign: Campaign, by=None) -> Campaign:
    campaign = _transition(campaign, Status.DRAFT, allowed_from={Status.SCHEDULED}, scheduled_at=None)
    campaign_event_record(campaign=campaign, kind=Event.UNSCHEDULED, by=by)
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by=None) -> Campaign:
    """Stop a campaign: what is not sent yet is never sent (messages already handed over stay sent)."""
    campaign = _transition(campaign, Status.CANCELLED, cancelled_at=timezone.now())
    cancelled = Message.objects.filter(campaign=campaign, status__in=[Message.Status.QUEUED, Message.Status.HELD]).update(
        status=Message.Status.CANCELLED)
    campaign_event_record(campaign=campaign, kind=Event.CANCELLED, by=by, messages=cancelled)
    campaign_refresh_counts(campaign.pk)
    return campaign


def _queue_start(campaign: Campaign) -> None:
    campaign_id = campaign.pk

    def queue():
        from campaigns.tasks import start_campaign

        start_campaign.delay_or_log(campaign_id, fallback=f"the dispatcher job starts campaign {campaign_id}")

    transaction.on_commit(queue)


def campaign_start(*, campaign_id: int, now: datetime | None = None) -> bool:
    """Scheduled (and due) -> sending: freeze the audience and queue the sending tasks.

    The conditional UPDATE is the claim: of two workers (or a task and the dispatcher) only
    one starts the campaign; the freeze commits with it, or neither does."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Campaign.objects.filter(pk=campaign_id, status=Status.SCHEDULED, scheduled_at__lte=now).update(
            status=Status.SENDING, started_at=now, updated_at=now)
        if not claimed:
            return False
        campaign = Campaign.objects.select_related("offer").get(pk=campaign_id)
        content.record_links(campaign)
        counts, created, held_out = _freeze_audience(campaign, now=now)
        Campaign.objects.filter(pk=campaign.pk).update(
            audience_size=counts.matching, recipients=created, held_out=held_out, skipped_no_consent=counts.no_consent,
            skipped_suppressed=counts.suppressed, skipped_frequency_cap=counts.frequency_cap,
            skipped_not_for_offer=counts.not_for_offer,
        )
        campaign_event_record(campaign=campaign, kind=Event.STARTED, audience=counts.matching, recipients=created,
                              held_out=held_out, holdout_percent=campaign.holdout_percent)
        enqueue_send(queued_message_ids(Message.objects.filter(campaign=campaign)))
        campaign_refresh_counts(campaign.pk)
    return True


def _freeze_audience(campaign: Campaign, *, now: datetime) -> tuple[AudienceCounts, int, int]:
    """One row per eligible customer: a recipient (queued, or held for the A/B winner) or, drawn by
    campaigns.holdout from the campaign's seed, a holdout customer (held out, never sent). The holdout
    is drawn among those who would have received the campaign, so both groups are alike.
    Returns the counts, the recipients and the holdout's size."""
    annotated = with_eligibility(campaign_audience(campaign), channel=campaign.channel, marketing=True, now=now,
                                 offer=campaign.offer)
    held_out = campaign_holdout(campaign)
    counts = eligibility_counts(annotated, held_out=held_out if campaign.holdout_percent else None)
    variants = [(variant.label, variant.split_percent) for variant in campaign.variants.order_by("label")] or [("A", 100)]
    # The holdout is drawn in the statement that reads the eligible customers, by the expression
    # the send confirmation counted with: what the marketer was told is what happens.
    total = counts.receiving
    in_test = round(total * campaign.test_percent / 100) if campaign.winner_after_hours is not None else total
    boundaries, running = [], 0
    for label, share in variants:
        running += share
        boundaries.append((round(in_test * running / 100), label))
    # A stable shuffle (a hash of campaign and customer): variants get comparable customers, not
    # the oldest ones for A and the newest for D, and a rerun of the same freeze is identical.
    shuffle = MD5(Concat(Value(f"{campaign.pk}:"), Cast("pk", output_field=CharField())))
    eligible = (annotated.filter(_skip="").annotate(_shuffle=shuffle, _held=held_out).order_by("_shuffle", "pk")
                .values_list("pk", "language", "_channel", "_held"))
    languages = {code for code, _name in settings.LANGUAGES}
    batch, created, position, held = [], 0, 0, 0
    for customer_id, language, channel, is_held in eligible.iterator(chunk_size=5000):
        if is_held:
            held += 1
            label, status = "", Message.Status.HELD_OUT
        elif position < in_test:
            label = next((label for boundary, label in boundaries if position < boundary), variants[-1][0])
            status = Message.Status.QUEUED
        else:
            label, status = "", Message.Status.HELD
        position += status != Message.Status.HELD_OUT
        batch.append(Message(
            campaign=campaign, customer_id=customer_id, channel=channel, language=language if language in languages else "en",
            variant=label, is_marketing=True, status=status, created_at=now,
            queued_at=None if status == Message.Status.HELD_OUT else now,
        ))
        if len(batch) >= INSERT_BATCH:
            Message.objects.bulk_create(batch)
            created += len(batch)
            batch = []
    if batch:
        Message.objects.bulk_create(batch)
        created += len(batch)
    return counts, created - held, held


@transaction.atomic
def campaign_resend_failed(*, campaign: Campaign, by=None) -> int:
    """Queue the failed messages again (consent is checked again when each is sent)."""
    current = Campaign.objects.select_for_update().values_list("status", flat=True).get(pk=campaign.pk)
    if current not in (Status.SENDING, Status.SENT):
        raise ValidationError(_("Only a campaign that is sending or sent has failed messages to resend."))
    failed = Message.objects.filter(campaign=campaign, status=Message.Status.FAILED)
    ids = list(failed.values_list("pk", flat=True))
    if not ids:
        return 0
    Message.objects.filter(pk__in=ids).update(status=Message.Status.QUEUED, queued_at=timezone.now(), failed_at=None,
                                              attempts=0)
    if current == Status.SENT:
        _transition(campaign, Status.SENDING, finished_at=None)
    campaign_event_record(campaign=campaign, kind=Event.RESENT_FAILED, by=by, messages=len(ids))
    enqueue_send(ids)
    campaign_refresh_counts(campaign.pk)
    return len(ids)


def campaign_resume(*, campaign: Campaign, by=None) -> int:
    """After a worker died: sweep its stale claims and queue what is still queued. Safe to repeat."""
    messages_sweep_stale(campaign=campaign)
    with transaction.atomic():
        ids = queued_message_ids(Message.objects.filter(campaign=campaign, campaign__status=Status.SENDING))
        campaign_event_record(campaign=campaign, kind=Event.RESUMED, by=by, messages=len(ids))
        enqueue_send(ids)
    campaign_refresh_counts(campaign.pk)
    return len(ids)


# --- A/B winner -------------------------------------------------------------------------------


def variant_rates(campaign: Campaign) -> dict[str, dict]:
    rows = (Message.objects.filter(campaign=campaign).exclude(variant="").order_by().values("variant")
            .annotate(sent=Count("pk", filter=Q(sent_at__isnull=False)),
                      clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
                      converted=Count("pk", filter=Q(converted_at__isnull=False))))
    return {row["variant"]: row for row in rows}


def campaign_pick_winner(*, campaign: Campaign, now: datetime | None = None, force: bool = False,
                         by=None) -> str | None:
    """When the test has run its hours: the variant with the best click (or conversion) rate
    gets the held messages. Returns the winner, or None when it is not time yet."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Status.SENDING or locked.winner_after_hours is None or locked.winner_decided_at:
            return None
        if not force and (locked.started_at is None or locked.started_at + timedelta(hours=locked.winner_after_hours) > now):
            return None
        key = "clicked" if locked.winner_metric == Campaign.WinnerMetric.CLICK else "converted"
        labels = list(locked.variants.order_by("label").values_list("label", flat=True)) or ["A"]
        rates = variant_rates(locked)

        def score(label):
            row = rates.get(label, {"sent": 0, key: 0})
            return (row[key] / row["sent"] if row["sent"] else 0.0, row["sent"], -labels.index(label))

        winner = max(labels, key=score)
        Campaign.objects.filter(pk=locked.pk).update(winner_variant=winner, winner_decided_at=now)
        campaign_event_record(campaign=locked, kind=Event.WINNER_PICKED, by=by, variant=winner, early=force)
        Message.objects.filter(campaign=locked, status=Message.Status.HELD).update(
            variant=winner, status=Message.Status.QUEUED, queued_at=now)
        enqueue_send(queued_message_ids(Message.objects.filter(campaign=locked)))
    campaign_refresh_counts(campaign.pk)
    campaign.refresh_from_db()
    return winner


# --- the dispatcher ---------------------------------------------------------------------------


def campaigns_dispatch(*, now: datetime | None = None) -> dict:
    """Every minute: start due campaigns, send the A/B winners whose time has come, sweep claims
    of dead workers, queue stalled messages again. Each step is idempotent."""
    from campaigns.services.sending import stalled_message_ids

    now = now or timezone.now()
    started = sum(campaign_start(campaign_id=pk, now=now) for pk in
                  Campaign.objects.filter(status=Status.SCHEDULED, scheduled_at__lte=now).values_list("pk", flat=True))
    winners = 0
    for campaign in Campaign.objects.filter(status=Status.SENDING, winner_after_hours__isnull=False,
                                            winner_decided_at__isnull=True):
        winners += campaign_pick_winner(campaign=campaign, now=now) is not None
    swept = messages_sweep_stale(now=now)
    with transaction.atomic():
        stalled = stalled_message_ids(now=now)
        enqueue_send(stalled)
    for pk in Campaign.objects.filter(status=Status.SENDING).values_list("pk", flat=True):
        campaign_refresh_counts(pk)
    return {"started": started, "winners": winners, "swept": swept, "requeued": len(stalled)}
