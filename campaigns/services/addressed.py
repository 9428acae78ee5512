"""Addressed messages (Automation.ADDRESSED_KINDS): one message to an address the customer gave for it.

A one-time code asked for at a till (a club enrolment by an API partner) goes to the phone or email the
customer gave there, which need not be the one on their record: it is written with the message
(`to_address`), and the sender uses it instead of the record's. Being about something the customer is
doing right now, it goes whatever their consents (it is no marketing) and counts towards no cap; an
address on the suppression list gets nothing (the row is skipped, as any suppressed message). Nothing of
the customer's record is rendered into it (campaigns.services.content), so whoever holds that address
learns nothing from it. Otherwise it is a message like any other: queued, claimed and sent by the same
sender, in the customer's language, on their timeline; what its source forgets once sent (the code)
is dropped when it is marked sent (campaigns.services.after_send).
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns import sms as sms_module
from campaigns.models import Automation, Channel, Message
from campaigns.selectors.suppression import is_suppressed
from campaigns.services.sending import enqueue_send


def addressed_message_send(*, kind: str, customer_id: int, channel: str, address: str, language: str,
                           occasion: str, context: dict) -> Message | None:
    """Queue one addressed message (sent after commit); None when the automation of `kind` is turned off."""
    if kind not in Automation.ADDRESSED_KINDS:
        raise ValueError(f"{kind} is not an addressed kind")
    automation = Automation.objects.filter(kind=kind, enabled=True).order_by("pk").first()
    if automation is None:
        return None
    channel = Channel(channel)
    if channel == Channel.SMS:
        address = sms_module.normalize_e164(address)
        suppressed = is_suppressed(phone=address)
    else:
        address = address.strip()
        suppressed = is_suppressed(email=address)
    languages = {code for code, _name in settings.LANGUAGES}
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            automation=automation, customer_id=customer_id, occasion=occasion[:200], context=context,
            channel=channel, language=language if language in languages else "en", is_marketing=False,
            to_address=address[:254], created_at=now,
            status=Message.Status.SKIPPED if suppressed else Message.Status.QUEUED,
            skip_reason=Message.SkipReason.SUPPRESSED if suppressed else "",
            queued_at=None if suppressed else now,
        )
        if not suppressed:
            enqueue_send([message.pk])
    return message
