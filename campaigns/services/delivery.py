"""What the providers report back about our messages: delivered, bounced, complained, opened and
clicked emails (django-anymail's tracking webhooks and its `tracking` signal, for any provider it
supports) and the SMS operator's delivery reports (a signed callback, or polling).

Each report becomes one DeliveryEvent, keyed by the provider's event id, inserted before anything
else: a replay (providers retry until they get a 2xx) hits the unique constraint and changes
nothing. A report about a message we do not know is ignored and answered 200, because the provider
would retry an error for days. What each event does:

- delivered: `delivered_at`; opened, clicked: the engagement timestamps (a click also opens);
- bounced (a hard bounce: anymail reports a soft one as "deferred", which we ignore): the message is
  bounced and the address suppressed;
- complained: the address is suppressed and the customer's email consent withdrawn, with its source;
- unsubscribed at the provider: the consent is withdrawn as by our own unsubscribe link;
- an SMS not delivered: sent again (under a new key) up to SMS_DELIVERY_RETRIES times, then failed
  with the operator's reason; one the recipient refuses is failed at once.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from campaigns import sms as sms_module
from campaigns.models import Channel, DeliveryEvent, Message, Suppression
from campaigns.services import sending, tracking
from campaigns.services.suppression import suppression_add
from crm import services as crm_services

log = logging.getLogger(__name__)

Kind, Outcome = DeliveryEvent.Kind, DeliveryEvent.Outcome
COMPLAINT_SOURCE = "spam complaint"
PROVIDER_UNSUBSCRIBE_SOURCE = "provider unsubscribe"
# anymail's normalized event types we act on; "rejected" depends on its reason (see _anymail_kind).
ANYMAIL_KINDS = {"delivered": Kind.DELIVERED, "bounced": Kind.BOUNCED, "complained": Kind.COMPLAINED,
                 "opened": Kind.OPENED, "clicked": Kind.CLICKED, "unsubscribed": Kind.UNSUBSCRIBED,
                 "failed": Kind.FAILED}


@dataclass(frozen=True)
class DeliveryReport:
    provider: str
    event_id: str
    provider_message_id: str
    channel: str
    kind: str
    occurred_at: datetime
    provider_status: str = ""
    reason: str = ""
    url: str = ""
    retryable: bool = False  # an SMS the operator could not deliver now (not one the recipient refused)


def delivery_report_record(report: DeliveryReport) -> DeliveryEvent | None:
    """Record one provider report and act on it; None for a replay or a message we do not know."""
    with transaction.atomic():
        message = (Message.objects.filter(channel=report.channel, provider_id__in=_id_forms(report.provider_message_id))
                   .exclude(provider_id="").select_related("customer").order_by("-pk").first())
        if message is None:
            log.info("%s report %s about an unknown message %s: ignored", report.provider, report.kind,
                     report.provider_message_id)
            return None
        try:
            with transaction.atomic():
                event = DeliveryEvent.objects.create(
                    message=message, provider=report.provider[:30], event_id=report.event_id[:200], kind=report.kind,
                    provider_status=report.provider_status[:40], reason=report.reason[:500], url=report.url[:2000],
                    occurred_at=report.occurred_at,
                )
        except IntegrityError:
            return None  # the provider sent it again: done the first time
        outcome = _ACTIONS[report.kind](message, report)
        if outcome != Outcome.RECORDED:
            DeliveryEvent.objects.filter(pk=event.pk).update(outcome=outcome)
            event.outcome = outcome
    return event


def _id_forms(provider_message_id: str) -> set[str]:
    # A Message-ID with or without its angle brackets: providers (and anymail) write it either way.
    bare = provider_message_id.strip().strip("<>")
    return {bare[:100], f"<{bare}>"[:100]}


def _delivered(message: Message, report: DeliveryReport) -> str:
    Message.objects.filter(pk=message.pk, delivered_at__isnull=True).update(delivered_at=report.occurred_at)
    return Outcome.RECORDED


def _opened(message: Message, report: DeliveryReport) -> str:
    tracking.message_mark_opened(message, at=report.occurred_at)
    return Outcome.RECORDED


def _clicked(message: Message, report: DeliveryReport) -> str:
    # Not counted on a TrackedLink: the provider's click tracking sees our own tracked redirect, which counts it.
    Message.objects.filter(pk=message.pk, clicked_at__isnull=True, sent_at__isnull=False).update(clicked_at=report.occurred_at)
    tracking.message_mark_opened(message, at=report.occurred_at)
    return Outcome.RECORDED


def _bounced(message: Message, report: DeliveryReport) -> str:
    Message.objects.filter(pk=message.pk, status=Message.Status.SENT).update(
        status=Message.Status.BOUNCED, bounced_at=report.occurred_at, error=report.reason[:2000])
    _suppress(message, Suppression.Reason.BOUNCE, report)
    _refresh_campaign(message)
    return Outcome.SUPPRESSED


def _complained(message: Message, report: DeliveryReport) -> str:
    Message.objects.filter(pk=message.pk, complained_at__isnull=True).update(complained_at=report.occurred_at)
    Message.objects.filter(pk=message.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=report.occurred_at)
    _suppress(message, Suppression.Reason.COMPLAINT, report)
    if message.is_addressed:  # the address was given for this one message: the customer's consents are not its
        return Outcome.SUPPRESSED
    crm_services.consent_set(customer=message.customer, channel=message.channel, granted=False,
                             source=f"{COMPLAINT_SOURCE} ({report.provider})"[:50], at=report.occurred_at)
    return Outcome.SUPPRESSED


def _unsubscribed(message: Message, report: DeliveryReport) -> str:
    if message.is_addressed:  # as for a complaint: not the customer's consent to withdraw
        Message.objects.filter(pk=message.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=report.occurred_at)
        return Outcome.RECORDED
    tracking.message_unsubscribe(message, source=f"{PROVIDER_UNSUBSCRIBE_SOURCE} ({report.provider})"[:50],
                                 at=report.occurred_at)
    return Outcome.RECORDED


def _failed(message: Message, report: DeliveryReport) -> str:
    """Not delivered: sent again under a new key while retries remain (SMS), else failed with the reason."""
    delivered = Message.objects.filter(pk=message.pk, status=Message.Status.SENT, provider_id=message.provider_id)
    reason = report.reason or report.provider_status
    if report.retryable and message.delivery_retries < settings.SMS_DELIVERY_RETRIES:
        requeued = delivered.update(
            status=Message.Status.QUEUED, delivery_retries=F("delivery_retries") + 1, claim_token=None, claimed_at=None,
            queued_at=timezone.now(), sent_at=None, delivered_at=None, error=f"Not delivered: {reason}"[:2000],
        )
        if requeued:
            sending.enqueue_send([message.pk])
            return Outcome.RETRIED
    if delivered.update(status=Message.Status.FAILED, failed_at=report.occurred_at,
                        error=f"Not delivered: {reason}"[:2000]):
        _refresh_campaign(message)
        return Outcome.MARKED_FAILED
    return Outcome.RECORDED


_ACTIONS = {Kind.DELIVERED: _delivered, Kind.OPENED: _opened, Kind.CLICKED: _clicked, Kind.BOUNCED: _bounced,
            Kind.COMPLAINED: _complained, Kind.UNSUBSCRIBED: _unsubscribed, Kind.FAILED: _failed}


def _suppress(message: Message, reason: str, report: DeliveryReport) -> None:
    address = message.to_address or (message.customer.email if message.channel == Channel.EMAIL else str(message.customer.phone or ""))
    if message.channel == Channel.EMAIL:
        suppression_add(email=address, reason=reason, note=f"{report.provider} {report.kind}")
    else:
        suppression_add(phone=address, reason=reason, note=f"{report.provider} {report.kind}")


def _refresh_campaign(message: Message) -> None:
    if message.campaign_id:
        sending.campaign_refresh_counts(message.campaign_id)


# --- email: django-anymail's normalized tracking events -------------------------------------------


def report_from_anymail(event, esp_name: str) -> DeliveryReport | None:
    """Our report of an anymail AnymailTrackingEvent; None for what we do not act on (queued, deferred...)."""
    kind = _anymail_kind(event)
    if kind is None or not event.message_id:
        return None
    occurred_at = event.timestamp or timezone.now()
    provider = str(esp_name or "email").lower()
    event_id = event.event_id or hashlib.sha256(
        f"{event.message_id}|{event.event_type}|{occurred_at.isoformat()}".encode()).hexdigest()
    return DeliveryReport(
        provider=provider, event_id=str(event_id), provider_message_id=str(event.message_id), channel=Channel.EMAIL,
        kind=kind, occurred_at=occurred_at, provider_status=str(event.reject_reason or event.event_type or ""),
        reason=str(event.description or event.mta_response or ""), url=str(event.click_url or ""),
    )


def _anymail_kind(event) -> str | None:
    if event.event_type == "rejected":
        # The provider would not send it: a known-bad or bounced address is a hard bounce.
        return {"bounced": Kind.BOUNCED, "invalid": Kind.BOUNCED, "unsubscribed": Kind.UNSUBSCRIBED}.get(
            event.reject_reason, Kind.FAILED)
    return ANYMAIL_KINDS.get(event.event_type)


def on_anymail_tracking(sender, event, esp_name, **kwargs) -> None:
    """Receiver of anymail.signals.tracking (the provider's signature was checked by anymail's view)."""
    report = report_from_anymail(event, esp_name)
    if report is not None:
        delivery_report_record(report)


# --- SMS: the operator's delivery reports -----------------------------------------------------


def sms_delivery_record(*, provider: str, provider_message_id: str, report: sms_module.DeliveryReport,
                        at: datetime | None = None) -> DeliveryEvent | None:
    """An SMS delivery report (a provider's callback or status answer); a pending state is not recorded."""
    return _record_sms(provider, str(provider_message_id), report, at)


def _record_sms(provider: str, provider_message_id: str, report, at: datetime | None) -> DeliveryEvent | None:
    if report.state == "pending":
        return None
    kind = Kind.DELIVERED if report.state == "delivered" else Kind.FAILED
    return delivery_report_record(DeliveryReport(
        provider=provider, event_id=f"{provider_message_id}:{report.provider_status}",
        provider_message_id=provider_message_id, channel=Channel.SMS, kind=kind, occurred_at=at or timezone.now(),
        provider_status=report.provider_status, reason=report.reason, retryable=report.state == "failed",
    ))


def sms_delivery_poll(*, now: datetime | None = None, hours: int = 48, batch: int = 500) -> dict:
    """Ask the SMS provider about messages sent in the last `hours` with no final report yet (a callback
    that never came). Does nothing for a backend that cannot tell (the file backend)."""
    backend_class = sms_module.get_backend_class()
    if not hasattr(backend_class, "delivery_statuses"):
        return {"asked": 0, "recorded": 0}
    now = now or timezone.now()
    waiting = list(Message.objects.filter(channel=Channel.SMS, status=Message.Status.SENT, delivered_at__isnull=True,
                                          sent_at__gte=now - timedelta(hours=hours)).exclude(provider_id="")
                   .order_by("sent_at").values_list("provider_id", flat=True)[:batch])
    if not waiting:
        return {"asked": 0, "recorded": 0}
    provider = getattr(backend_class, "provider_name", "sms")
    reports = backend_class().delivery_statuses(waiting)
    recorded = sum(_record_sms(provider, provider_id, report, now) is not None for provider_id, report in reports.items())
    return {"asked": len(waiting), "recorded": recorded}
