"""Read side of campaigns: reports, progress, the customer's messages on their timeline."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from campaigns import sms
from campaigns.models import Automation, Campaign, Channel, DeliveryEvent, Message
from core.timeline import TimelineEntry
from crm.models import Customer

def reporting_channels() -> list[str]:
    """The channels whose provider reports what became of each message: email through an anymail
    provider (its tracking webhooks), SMS through a backend with delivery reports (Kavenegar). The
    console, file and memory backends report nothing: a message they accepted is "sent", never "delivered"."""
    channels = []
    from anymail.backends.base import AnymailBaseBackend

    if issubclass(import_string(settings.EMAIL_BACKEND), AnymailBaseBackend):
        channels.append(Channel.EMAIL)
    if callable(getattr(sms.get_backend_class(), "delivery_statuses", None)):
        channels.append(Channel.SMS)
    return channels


def _figures() -> dict:
    """The report's figures, as aggregates over Message rows (one GROUP BY). "delivered" is what a
    provider reported (a `delivered` DeliveryEvent); "reported" counts the sent messages that could be
    reported on (their channel reports, or a report came), so the page says "sent" for the others."""
    delivered = DeliveryEvent.objects.filter(message=OuterRef("pk"), kind=DeliveryEvent.Kind.DELIVERED)
    any_report = DeliveryEvent.objects.filter(message=OuterRef("pk"))
    return {
        "recipients": Count("pk", filter=~Q(status__in=[Message.Status.SKIPPED, Message.Status.CANCELLED,
                                                        Message.Status.HELD_OUT])),
        "sent": Count("pk", filter=Q(sent_at__isnull=False)),
        # What the rates are shares of: sent and not bounced (a provider's report can only take messages away).
        "reached": Count("pk", filter=Q(sent_at__isnull=False, bounced_at__isnull=True)),
        "delivered": Count("pk", filter=Q(Exists(delivered))),
        "reported": Count("pk", filter=Q(sent_at__isnull=False) & (Q(channel__in=reporting_channels()) | Q(Exists(any_report)))),
        "failed": Count("pk", filter=Q(status=Message.Status.FAILED)),
        "bounced": Count("pk", filter=Q(bounced_at__isnull=False)),
        "opened": Count("pk", filter=Q(opened_at__isnull=False)),
        "clicked": Count("pk", filter=Q(clicked_at__isnull=False)),
        "converted": Count("pk", filter=Q(converted_at__isnull=False)),
        "unsubscribed": Count("pk", filter=Q(unsubscribed_at__isnull=False)),
        "revenue": Sum("revenue"),
    }


@dataclass
class ReportRow:
    variant: str
    recipients: int = 0
    sent: int = 0
    reached: int = 0
    delivered: int = 0
    reported: int = 0
    failed: int = 0
    bounced: int = 0
    opened: int = 0
    clicked: int = 0
    converted: int = 0
    unsubscribed: int = 0
    revenue: Decimal = Decimal("0")

    @property
    def unreported(self) -> int:
        """Messages sent on a channel that reports nothing: known sent, not known delivered."""
        return self.sent - self.reported

    def rate(self, figure: str) -> float | None:
        """A figure as a share of the messages reached (None before any was)."""
        return round(100 * getattr(self, figure) / self.reached, 1) if self.reached else None

    @property
    def open_rate(self):
        return self.rate("opened")

    @property
    def click_rate(self):
        return self.rate("clicked")

    @property
    def conversion_rate(self):
        return self.rate("converted")


@dataclass
class Report:
    total: ReportRow
    variants: list[ReportRow] = field(default_factory=list)


def messages_report(messages: QuerySet[Message]) -> Report:
    """Sent, delivered (as reported), opened, clicked, converted, revenue, unsubscribes: in total and per
    variant (one query)."""
    rows, figures = [], _figures()
    for values in messages.order_by().values("variant").annotate(**figures).order_by("variant"):
        values["revenue"] = values["revenue"] or Decimal("0")
        rows.append(ReportRow(**values))
    total = ReportRow(variant="")
    for row in rows:
        for name in figures:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return Report(total=total, variants=[row for row in rows if row.variant])


def campaign_report(campaign: Campaign) -> Report:
    return messages_report(Message.objects.filter(campaign=campaign))


def automation_report(automation: Automation) -> Report:
    return messages_report(Message.objects.filter(automation=automation))


def campaign_progress(campaign: Campaign) -> dict:
    """For the progress bar: counted from the messages (one GROUP BY), not from cached figures."""
    counts = dict(Message.objects.filter(campaign=campaign).order_by().values("status").annotate(n=Count("pk"))
                  .values_list("status", "n"))
    total = sum(count for status, count in counts.items()
                if status not in (Message.Status.CANCELLED, Message.Status.HELD_OUT))
    sent = sum(counts.get(status, 0) for status in (*Message.DELIVERED_STATUSES, Message.Status.BOUNCED))
    failed = counts.get(Message.Status.FAILED, 0)
    skipped = counts.get(Message.Status.SKIPPED, 0)
    done = sent + failed + skipped
    return {
        "status": campaign.status, "status_label": str(campaign.get_status_display()), "total": total, "sent": sent,
        "failed": failed, "skipped": skipped, "queued": counts.get(Message.Status.QUEUED, 0),
        "sending": counts.get(Message.Status.SENDING, 0), "held": counts.get(Message.Status.HELD, 0),
        "percent": round(100 * done / total) if total else (100 if campaign.status == Campaign.Status.SENT else 0),
    }


def timeline_messages(customer, *, limit: int) -> list[TimelineEntry]:
    """Each message a customer was sent (or skipped for), newest first: one query."""
    messages = (Message.objects.filter(customer=customer).select_related("campaign", "automation")
                .order_by("-created_at", "-id")[:limit])
    entries = []
    for message in messages:
        # An automation is named by its kind, in the reader's language (its stored name is one language's).
        source = message.campaign or (message.automation.get_kind_display() if message.automation else None)
        detail = ""
        if message.sent_at:
            # The date and the address are isolated (U+2068..U+2069) so a right-to-left line does not jumble them.
            detail = _("Sent %(when)s to %(to)s") % {"when": f"\u2068{message.sent_at.strftime('%Y-%m-%d %H:%M')}\u2069",
                                                     "to": f"\u2068{message.to_address}\u2069"}
        elif message.skip_reason:
            detail = message.get_skip_reason_display()
        elif message.error:
            detail = message.error[:200]
        entries.append(TimelineEntry(
            when=message.created_at, kind="message",
            title=_("%(channel)s: %(source)s") % {"channel": message.get_channel_display(), "source": source or "-"},
            detail=str(detail), url=reverse("admin:campaigns_message_change", args=[message.pk]),
            # The furthest engagement says more than "sent" once there is one (both come from the row).
            badge=message.get_engagement_display() or message.get_status_display(),
            extra={"channel": message.channel, "campaign": message.campaign.name if message.campaign else "",
                   "automation": message.automation.name if message.automation else "", "status": message.status,
                   "engagement": message.engagement},
        ))
    return entries


def timeline_delivery_events(customer, *, limit: int) -> list[TimelineEntry]:
    """What the providers reported about the customer's messages (delivered, bounced, spam...), newest first: one query."""
    events = (DeliveryEvent.objects.filter(message__customer=customer)
              .select_related("message", "message__campaign", "message__automation").order_by("-occurred_at", "-id")[:limit])
    entries = []
    for event in events:
        message = event.message
        source = message.campaign or (message.automation.get_kind_display() if message.automation else None)
        entries.append(TimelineEntry(
            when=event.occurred_at, kind="delivery",
            title=_("%(channel)s %(event)s: %(source)s") % {"channel": message.get_channel_display(),
                                                             "event": event.get_kind_display(), "source": source or "-"},
            detail=str(event.get_outcome_display() if event.outcome != DeliveryEvent.Outcome.RECORDED else "")
            + (f" \u2068{event.reason[:200]}\u2069" if event.reason else ""),
            url=reverse("admin:campaigns_message_change", args=[message.pk]),
            badge=event.get_kind_display(),
            extra={"channel": message.channel, "event": event.kind, "outcome": event.outcome, "provider": event.provider},
        ))
    return entries


def test_send_customer(reference: str) -> Customer | None:
    """The customer a test send is personalised as: by email, id or public id; None when none matches."""
    reference = (reference or "").strip()
    if not reference:
        return None
    query = Customer.objects.select_related("membership__tier")
    if "@" in reference:
        return query.filter(email=reference.lower()).first()
    if reference.isdigit():
        return query.filter(pk=int(reference)).first()
    try:
        return query.filter(public_id=reference).first()
    except ValidationError:
        return None
