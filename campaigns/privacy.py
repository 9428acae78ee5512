"""Campaigns' part of a customer's data export and erasure (contributed to core.privacy in campaigns.contributions)."""

from datetime import date

from django.conf import settings

from campaigns.models import DeliveryEvent, InboundSms, Message, SegmentMember, Suppression
from campaigns.selectors.suppression import is_suppressed
from campaigns.services.suppression import suppression_add
from core.privacy import ERASED_TEXT
from crm.retention import purge_in_batches, retention_cutoff


def export_campaigns(customer) -> dict:
    messages = Message.objects.filter(customer=customer).select_related("campaign", "automation").order_by("created_at", "id")
    return {
        # Message bodies are not stored: they are rendered from the campaign or automation when sent.
        "messages": [
            {"public_id": message.public_id, "campaign": message.campaign.name if message.campaign else None,
             "automation": message.automation.name if message.automation else None, "channel": message.channel,
             "language": message.language, "status": message.status, "engagement": message.engagement,
             "skip_reason": message.skip_reason,
             "to_address": message.to_address, "created_at": message.created_at, "sent_at": message.sent_at,
             "opened_at": message.opened_at, "clicked_at": message.clicked_at, "unsubscribed_at": message.unsubscribed_at,
             "delivered_at": message.delivered_at, "bounced_at": message.bounced_at, "complained_at": message.complained_at}
            for message in messages
        ],
        # What the email and SMS providers reported about them.
        "delivery_events": [
            {"message": event.message.public_id, "event": event.kind, "provider": event.provider,
             "occurred_at": event.occurred_at, "reason": event.reason, "url": event.url}
            for event in DeliveryEvent.objects.filter(message__customer=customer).select_related("message")
            .order_by("occurred_at", "id")
        ],
        "static_segments": sorted(
            SegmentMember.objects.filter(customer=customer).values_list("segment__name", flat=True)
        ),
        "suppressed": is_suppressed(email=customer.email, phone=str(customer.phone) if customer.phone else None),
    }


def erase_campaigns(customer, *, by=None) -> None:
    """Hash the email and phone into the suppression list, so nothing is ever sent to them again,
    then drop the addresses and personalised context kept on messages and inbound SMS."""
    phone = str(customer.phone) if customer.phone else None
    suppression_add(email=customer.email, phone=phone, reason=Suppression.Reason.ERASED)
    Message.objects.filter(customer=customer, status__in=[Message.Status.HELD, Message.Status.QUEUED]).update(
        status=Message.Status.CANCELLED)
    Message.objects.filter(customer=customer).update(to_address="", context={}, error="")
    # A provider's bounce text often quotes the address; a clicked URL may carry personal parameters.
    DeliveryEvent.objects.filter(message__customer=customer).update(reason="", url="")
    if phone:
        InboundSms.objects.filter(from_number=phone).update(from_number=ERASED_TEXT, text=ERASED_TEXT)


# Messages still on their way stay whatever their age: deleting them would lose a send.
MESSAGES_IN_FLIGHT = (Message.Status.HELD, Message.Status.QUEUED, Message.Status.SENDING)


def messages_purge(*, run_date: date, days: int | None = None, batch_size: int | None = None) -> dict:
    """Retention policy (crm.retention): delete messages created more than `days` days before the
    run date (RETENTION_MESSAGES_DAYS; 0 keeps them forever). Campaign figures of those old
    campaigns then count only the messages kept."""
    days = settings.RETENTION_MESSAGES_DAYS if days is None else days
    if not days:
        return {"deleted": 0, "kept_forever": True}
    cutoff = retention_cutoff(run_date, days)
    due = Message.objects.filter(created_at__lt=cutoff).exclude(status__in=MESSAGES_IN_FLIGHT)
    return {"deleted": purge_in_batches(due, batch_size=batch_size), "older_than": cutoff.isoformat(), "days": days}
