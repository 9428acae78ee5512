"""Automations: win-back, replenishment, post-purchase, survey invitations and the club's
welcome, points-expiry and birthday messages.

Each writes one Message per (automation, customer, occasion): the unique row is what makes
a job run twice, a signal received twice or a task redelivered send once. Customers who
may not get it (no consent, suppressed, over the cap) get a row too, as *skipped* with the
reason, so a rerun does not try them again and the timeline says why nothing was sent.

Win-back and replenishment are marketing: they respect and count towards the frequency
cap. The others are about the customer's own order or club account (transactional):
exempt from the cap, never from consent or the suppression list.

A marketing automation keeps a holdout: each customer who enters and may receive the message is
drawn (campaigns.holdout, the automation's seed and the customer's id) and, when held out, gets a
row in the "held out" state dated at the entry, never sent; it counts as an entry for the cooldown.
"""

import hashlib
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation

from campaigns import holdout, tokens
from campaigns.models import Automation, Channel, ChannelChoice, Message
from campaigns.services import after_send
from campaigns.selectors.audience import with_eligibility
from campaigns.services.sending import enqueue_send, queued_message_ids
from club.services.common import day_end, day_start
from crm.models import Customer, Order, OrderLine, Product

NOTICE_KINDS = {
    "welcome": Automation.Kind.WELCOME,
    "birthday": Automation.Kind.BIRTHDAY,
    "points_expiring": Automation.Kind.POINTS_EXPIRING,
}


def enabled(kind: str):
    return Automation.objects.filter(kind=kind, enabled=True).select_related("offer").order_by("pk")


# --- the common write -------------------------------------------------------------------------


def automation_messages_create(*, automation: Automation, occasions: list[tuple[int, str, dict]],
                               now: datetime | None = None) -> dict:
    """Write one message per (customer id, occasion, context), queued or skipped, and queue the
    sending. Occasions already written are left alone (a rerun is a no-op)."""
    now = now or timezone.now()
    if not occasions:
        return {"queued": 0, "skipped": 0, "held_out": 0}
    languages = {code for code, _name in settings.LANGUAGES}
    ab_test = bool(automation.subject_b_en or automation.subject_b)
    fallback_channel = Channel.SMS if automation.channel == ChannelChoice.SMS else Channel.EMAIL
    with transaction.atomic():
        for start in range(0, len(occasions), 1000):
            chunk = occasions[start:start + 1000]
            eligibility = {
                pk: (language, channel, skip) for pk, language, channel, skip in
                with_eligibility(Customer.objects.filter(pk__in={row[0] for row in chunk}), channel=automation.channel,
                                 marketing=automation.is_marketing, now=now, offer=automation.offer)
                .values_list("pk", "language", "_channel", "_skip")
            }
            rows = []
            for index, (customer_id, occasion, context) in enumerate(chunk, start=start):
                if customer_id not in eligibility:
                    continue
                language, channel, skip = eligibility[customer_id]
                status = Message.Status.SKIPPED if skip else Message.Status.QUEUED
                if not skip and automation.holds_out and holdout.is_held_out(
                        automation.holdout_seed, customer_id, automation.holdout_percent):
                    status = Message.Status.HELD_OUT
                rows.append(Message(
                    automation=automation, customer_id=customer_id, occasion=occasion[:200], context=context or {},
                    channel=channel or fallback_channel, language=language if language in languages else "en",
                    variant=("A", "B")[index % 2] if ab_test else "A", is_marketing=automation.is_marketing,
                    status=status, skip_reason=skip, created_at=now,
                    queued_at=now if status == Message.Status.QUEUED else None,
                ))
            Message.objects.bulk_create(rows, ignore_conflicts=True)
        enqueue_send(queued_message_ids(Message.objects.filter(automation=automation, created_at=now)))
    written = dict(Message.objects.filter(automation=automation, created_at=now).order_by().values("status")
                   .annotate(n=Count("pk")).values_list("status", "n"))
    skipped, held_out = written.get(Message.Status.SKIPPED, 0), written.get(Message.Status.HELD_OUT, 0)
    return {"queued": sum(written.values()) - skipped - held_out, "skipped": skipped, "held_out": held_out}


def _outside_cooldown(customers, automation: Automation, now: datetime):
    if not automation.cooldown_days:
        return customers
    recent = Message.objects.filter(automation=automation, customer=OuterRef("pk"),
                                    created_at__gte=now - timedelta(days=automation.cooldown_days)) \
        .exclude(status=Message.Status.SKIPPED)
    return customers.exclude(Exists(recent))


def _window(last_day: date) -> tuple[datetime, datetime]:
    """From CAMPAIGNS_AUTOMATION_CATCH_UP_DAYS before `last_day` to its end: a missed day is caught up."""
    return day_start(last_day - timedelta(days=settings.CAMPAIGNS_AUTOMATION_CATCH_UP_DAYS)), day_end(last_day)


def _merge(summaries: list[dict]) -> dict:
    total = defaultdict(int)
    for summary in summaries:
        for key, value in summary.items():
            total[key] += value
    return {"automations": len(summaries), **total}


# --- periodic automations ---------------------------------------------------------------------


def win_back_run(*, run_date: date, now: datetime | None = None) -> dict:
    """Customers whose last counted order was N days ago (default 60) get the win-back message,
    at most once per cooldown (default 90 days)."""
    now = now or timezone.now()
    summaries = []
    for automation in enabled(Automation.Kind.WIN_BACK):
        start, end = _window(run_date - timedelta(days=automation.days or 60))
        customers = _outside_cooldown(Customer.objects.filter(last_order_at__gte=start, last_order_at__lt=end), automation, now)
        occasions = [(pk, f"last-order:{timezone.localdate(last_order_at).isoformat()}", {})
                     for pk, last_order_at in customers.order_by("pk").values_list("pk", "last_order_at")]
        summaries.append(automation_messages_create(automation=automation, occasions=occasions, now=now))
    return _merge(summaries)


def replenishment_run(*, run_date: date, now: datetime | None = None) -> dict:
    """A product with a replenishment interval is due `interval` days after it was bought: the
    customer is reminded `days` days before, unless they have bought it again since."""
    now = now or timezone.now()
    summaries = []
    intervals = sorted(set(Product.objects.filter(replenishment_days__gt=0).values_list("replenishment_days", flat=True)))
    for automation in enabled(Automation.Kind.REPLENISHMENT):
        due: dict[tuple[int, date], set[str]] = defaultdict(set)
        for interval in intervals:
            start, end = _window(run_date + timedelta(days=automation.days - interval))
            bought_again = OrderLine.objects.filter(
                product=OuterRef("product"), order__customer=OuterRef("order__customer"), order__is_counted=True,
                order__placed_at__gt=OuterRef("order__placed_at"),
            )
            lines = (OrderLine.objects.filter(product__replenishment_days=interval, order__is_counted=True,
                                              order__placed_at__gte=start, order__placed_at__lt=end)
                     .exclude(Exists(bought_again))
                     .values_list("order__customer_id", "product__name", "order__placed_at"))
            for customer_id, name, placed_at in lines:
                due[(customer_id, timezone.localdate(placed_at) + timedelta(days=interval))].add(name)
        allowed = set(_outside_cooldown(Customer.objects.filter(pk__in={key[0] for key in due}), automation, now)
                      .values_list("pk", flat=True))
        occasions = [(customer_id, f"due:{due_date.isoformat()}", {"products": ", ".join(sorted(names))})
                     for (customer_id, due_date), names in sorted(due.items()) if customer_id in allowed]
        summaries.append(automation_messages_create(automation=automation, occasions=occasions, now=now))
    return _merge(summaries)


def post_purchase_run(*, run_date: date, now: datetime | None = None) -> dict:
    """A thank-you `days` days after an order is fulfilled (once per order). An order whose
    survey invitation came first already has its message (with the survey link)."""
    now = now or timezone.now()
    summaries = []
    for automation in enabled(Automation.Kind.POST_PURCHASE):
        start, end = _window(run_date - timedelta(days=automation.days))
        orders = Order.objects.filter(is_counted=True, fulfilled_at__gte=start, fulfilled_at__lt=end)
        if automation.cooldown_days:
            orders = orders.filter(customer__in=_outside_cooldown(Customer.objects.all(), automation, now))
        occasions = [(customer_id, f"order:{pk}", {"order_number": number})
                     for pk, customer_id, number in orders.order_by("pk").values_list("pk", "customer_id", "order_number")]
        summaries.append(automation_messages_create(automation=automation, occasions=occasions, now=now))
    return _merge(summaries)


# --- event-driven automations -----------------------------------------------------------------


def _occasion(prefix: str, keys: list[str]) -> str:
    joined = ",".join(sorted(str(key) for key in keys))
    occasion = f"{prefix}:{joined}"
    return occasion if len(occasion) <= 200 else f"{prefix}:sha1:{hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()}"


def on_member_notification(sender, member, kind: str, context: dict, **kwargs) -> None:
    """Receiver of club.signals.member_notification (after commit): welcome, birthday, points expiring."""
    automation_kind = NOTICE_KINDS.get(kind)
    if automation_kind is None:
        return
    keys = context.get("keys") or [kind]
    extra = {key: value for key, value in context.items() if key != "keys"}
    for automation in enabled(automation_kind):
        automation_messages_create(automation=automation, occasions=[(member.customer_id, _occasion(kind, keys), extra)])


def on_invitation_created(sender, invitation, token: str, **kwargs) -> None:
    """Receiver of feedback.signals.invitation_created (after commit; the only moment the raw token
    exists). The invitation goes out by email or SMS here; feedback's invitation_mark_sent is
    called once the message is sent (services.after_send). An order's invitation is its post-purchase message."""
    # The survey's title in the customer's language (it is translated per language), not the staff's.
    language = Customer.objects.filter(pk=invitation.customer_id).values_list("language", flat=True).first()
    with translation.override(language if language in {code for code, _name in settings.LANGUAGES} else "en"):
        title = invitation.survey.title
    # after_send's hooks for these sources forget the link once sent and tell feedback the invitation went out.
    context = {
        after_send.SURVEY_URL: tokens.absolute(reverse("feedback:invitation", args=[token])),
        "survey": title, after_send.INVITATION_ID: invitation.pk,
    }
    automation = None
    if invitation.order_id:
        automation = enabled(Automation.Kind.POST_PURCHASE).first()
        context["order_number"] = Order.objects.filter(pk=invitation.order_id).values_list("order_number", flat=True).first()
    automation = automation or enabled(Automation.Kind.SURVEY_INVITATION).first()
    if automation is None:
        return
    occasion = f"invitation:{invitation.pk}"
    if invitation.order_id and automation.kind == Automation.Kind.POST_PURCHASE:
        order_occasion = f"order:{invitation.order_id}"
        taken = Message.objects.filter(automation=automation, customer_id=invitation.customer_id, occasion=order_occasion)
        if not taken.exists():
            occasion = order_occasion
    automation_messages_create(automation=automation, occasions=[(invitation.customer_id, occasion, context)])


def on_return_updated(sender, return_request, **kwargs) -> None:
    """Receiver of feedback.signals.return_updated (after commit): the customer hears of each state
    change of their return (requested, approved, rejected, received, refunded, ...) on a channel they
    consented to, in their language. One message per (return, state): a replayed signal sends nothing."""
    automation = enabled(Automation.Kind.RETURN_UPDATE).first()
    if automation is None:
        return
    order_number = Order.objects.filter(pk=return_request.order_id).values_list("order_number", flat=True).first()
    occasion = f"return:{return_request.public_id}:{return_request.state}"
    context = {"order_number": order_number or "", "return_state": return_request.state}
    automation_messages_create(automation=automation, occasions=[(return_request.customer_id, occasion, context)])
