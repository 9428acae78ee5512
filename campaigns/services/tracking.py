"""What happens after a message is sent: opens, clicks, unsubscribes, conversions, inbound SMS.

Each is a conditional UPDATE of one engagement timestamp (the first open, the first click...),
so a pixel loaded ten times or an order signal received twice counts once. The message's
status is its delivery and stays "sent": engagement is read from the timestamps.
"""

import re
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from campaigns import tokens
from campaigns.models import Channel, InboundSms, Message, TrackedLink
from campaigns.sms import PermanentSmsError, normalize_e164
from crm import services as crm_services
from crm.models import Customer, Order

UNSUBSCRIBE_SOURCE = "unsubscribe link"
SMS_STOP_SOURCE = "sms stop"
# What an inbound SMS may say to opt out (compared after normalisation: case, spaces, Arabic/Persian letter forms).
STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "لغو", "الغاء", "إلغاء", "انصراف"})

# What an order may convert: a delivered message whose recipient did not unsubscribe from it.
CONVERTIBLE = Q(status=Message.Status.SENT, unsubscribed_at__isnull=True)


def message_for_token(purpose: str, token: str, *, max_age_days: int | None = None) -> Message:
    """The message a signed token names; Message.DoesNotExist for a bad, tampered or expired one."""
    try:
        value = tokens.read(purpose, token, max_age_days=max_age_days)
    except tokens.BadToken:
        raise Message.DoesNotExist from None
    public_id = value.split(".", 1)[0]
    if not re.fullmatch(r"[0-9a-f]{32}", public_id):
        raise Message.DoesNotExist
    return Message.objects.select_related("customer", "campaign", "automation").get(public_id=public_id)


def message_mark_opened(message: Message, *, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    changed = Message.objects.filter(pk=message.pk, opened_at__isnull=True, sent_at__isnull=False).update(opened_at=at)
    return bool(changed)


def link_for_click(token: str) -> tuple[Message, TrackedLink]:
    """The message and the recorded link of a click token. The link must belong to the message's
    own campaign or automation: any other link id is a DoesNotExist (a 404), never a redirect."""
    message = message_for_token(tokens.CLICK, token)
    value = tokens.read(tokens.CLICK, token)
    _public_id, _dot, link_id = value.partition(".")
    if not link_id.isdigit():
        raise TrackedLink.DoesNotExist
    owner = {"campaign_id": message.campaign_id} if message.campaign_id else {"automation_id": message.automation_id}
    link = TrackedLink.objects.get(pk=int(link_id), **owner)
    return message, link


def message_mark_clicked(message: Message, link: TrackedLink, *, at: datetime | None = None) -> None:
    at = at or timezone.now()
    TrackedLink.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1)
    Message.objects.filter(pk=message.pk, clicked_at__isnull=True, sent_at__isnull=False).update(clicked_at=at)
    # A click proves the email was opened even when the pixel was blocked.
    Message.objects.filter(pk=message.pk, opened_at__isnull=True, sent_at__isnull=False).update(opened_at=at)


@transaction.atomic
def message_unsubscribe(message: Message, *, source: str = UNSUBSCRIBE_SOURCE, at: datetime | None = None) -> bool:
    """Withdraw the customer's consent for the message's channel (recorded with time and source).
    Returns False when they had already withdrawn it."""
    at = at or timezone.now()
    change = crm_services.consent_set(customer=message.customer, channel=message.channel, granted=False, source=source, at=at)
    Message.objects.filter(pk=message.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=at)
    return change is not None


def _normalize_word(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = text.replace("\u200c", "").replace("\u200f", "").replace("\u200e", "")  # ZWNJ and direction marks
    text = text.replace("ي", "ی").replace("ك", "ک")  # Arabic and Persian forms of yeh and kaf
    text = "".join(char for char in text if not unicodedata.category(char).startswith("M"))  # harakat
    text = re.sub(r"[\s\d۰-۹٠-٩.!,؛،:;«»\"'()-]+", " ", text).strip()
    return text


def is_stop_request(text: str) -> bool:
    words = _normalize_word(text).split()
    if not words:
        return False
    normalized_stops = {_normalize_word(word) for word in STOP_WORDS}
    return words[0] in normalized_stops or " ".join(words) in normalized_stops


@transaction.atomic
def inbound_sms_record(*, from_number: str, text: str, received_at: datetime | None = None) -> InboundSms:
    """Record an SMS a customer sent us; "STOP", "لغو" or "إلغاء" withdraws SMS consent of every
    customer with that number (source "sms stop"). The partner API calls this."""
    received_at = received_at or timezone.now()
    try:
        number = normalize_e164(from_number)
    except PermanentSmsError:
        number = (from_number or "").strip()[:32]
    stop = is_stop_request(text)
    unsubscribed = 0
    if stop and number:
        for customer in Customer.objects.filter(phone=number).order_by("pk"):
            if crm_services.consent_set(customer=customer, channel=Channel.SMS, granted=False, source=SMS_STOP_SOURCE,
                                        at=received_at):
                unsubscribed += 1
            latest = (Message.objects.filter(customer=customer, channel=Channel.SMS, sent_at__isnull=False,
                                             unsubscribed_at__isnull=True).order_by("-sent_at").values("pk")[:1])
            Message.objects.filter(pk=Subquery(latest)).update(unsubscribed_at=received_at)
    return InboundSms.objects.create(from_number=number, text=(text or "")[:1600], is_stop=stop,
                                     customers_unsubscribed=unsubscribed, received_at=received_at)


# --- conversions ------------------------------------------------------------------------------


def conversion_record(*, order: Order) -> Message | None:
    """A counted order converts the customer's latest message sent in the N days before it
    (CAMPAIGNS_CONVERSION_DAYS), with the order's value as revenue. One UPDATE; an order
    converts at most one message and a message converts once, so a repeat does nothing."""
    counted = Order.objects.filter(pk=order.pk, is_counted=True).values_list("placed_at", "net_total").first()
    if counted is None:
        return None
    placed_at, revenue = counted
    already = Message.objects.filter(conversion_order=order)
    if already.exists():
        return None
    since = placed_at - timedelta(days=settings.CAMPAIGNS_CONVERSION_DAYS)
    latest = (Message.objects.filter(customer_id=order.customer_id, sent_at__gte=since, sent_at__lte=placed_at,
                                     converted_at__isnull=True).filter(CONVERTIBLE)
              .order_by("-sent_at", "-pk").values("pk")[:1])
    changed = Message.objects.filter(pk=Subquery(latest), converted_at__isnull=True).exclude(
        Exists(Message.objects.filter(conversion_order=order))
    ).update(converted_at=placed_at, conversion_order=order, revenue=revenue)
    return Message.objects.filter(conversion_order=order).first() if changed else None


def conversions_record(*, order_ids) -> int:
    """Conversions of a batch of new orders (after they commit): one query finds the few orders whose
    customer has a message that could convert; each of those is then claimed as conversion_record does."""
    window = timedelta(days=settings.CAMPAIGNS_CONVERSION_DAYS)
    recipients = Message.objects.filter(
        customer=OuterRef("customer"), sent_at__isnull=False, converted_at__isnull=True,
        sent_at__lte=OuterRef("placed_at"), sent_at__gte=OuterRef("placed_at") - window,
    ).filter(CONVERTIBLE)
    orders = (Order.objects.filter(pk__in=list(order_ids), is_counted=True).filter(Exists(recipients))
              .exclude(Exists(Message.objects.filter(conversion_order=OuterRef("pk")))).order_by("placed_at", "pk"))
    return sum(conversion_record(order=order) is not None for order in orders)


def conversions_catch_up(*, run_date, days: int | None = None) -> int:
    """Daily: orders whose conversions were not recorded after their commit (a worker that died
    between the commit and the conversions) convert too."""
    from club.services.common import day_end

    days = days or settings.CAMPAIGNS_CONVERSION_DAYS
    end = day_end(run_date)
    recipients = Message.objects.filter(customer=OuterRef("customer"), sent_at__isnull=False, converted_at__isnull=True,
                                        sent_at__lte=OuterRef("placed_at")).filter(CONVERTIBLE)
    converted_by = Message.objects.filter(conversion_order=OuterRef("pk"))
    orders = (Order.objects.filter(is_counted=True, placed_at__gte=end - timedelta(days=days + 1), placed_at__lt=end)
              .filter(Exists(recipients)).exclude(Exists(converted_by)).order_by("placed_at", "pk"))
    return sum(conversion_record(order=order) is not None for order in orders.iterator(chunk_size=500))


def on_orders_created(sender, order_ids, **kwargs) -> None:
    """Receiver of crm.signals.orders_created: the conversions are recorded after the orders commit,
    so the orders' transaction never waits on the messages' rows."""
    ids = list(order_ids)
    transaction.on_commit(lambda: conversions_record(order_ids=ids))
