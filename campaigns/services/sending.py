"""Sending: claim each message, hand it to the email or SMS backend, mark it sent. Restartable.

Exactly once, and where the line is drawn
-----------------------------------------
A message row moves queued -> sending -> sent. A worker claims one message with a
conditional UPDATE (`WHERE status = 'queued'`, setting a fresh claim token), so two
workers, a task delivered twice, or a resumed campaign can never both send it. The row is
marked sent (`WHERE claim_token = <ours>`) right after the backend accepted the message,
in its own statement, so a worker killed half way loses at most the one message it was
handing over at that instant.

That one message is the boundary with the provider, and there we choose **at most once**:
a message left in "sending" by a dead worker is not sent again automatically; the sweep
(`messages_sweep_stale`) marks it failed with "delivery unknown", where the campaign page
shows it and "Resend to those that failed" is the marketer's explicit choice. The
exception is a backend whose provider deduplicates on our key (`supports_idempotency`):
then the stale message is queued again and the provider drops a duplicate (at least once
on our side, exactly once overall). Each message's public id is its idempotency key: the
`Message-ID` header of an email (receiving systems drop a repeated Message-ID) and the key
passed to the SMS backend.

Errors: a provider that is down or throttling (`TransientSendError`) puts the message back
to queued and the task retries with backoff; a message refused for good (bad address,
template error) ends failed with the error, and the chunk goes on.
"""

import logging
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests
from anymail.exceptions import AnymailError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from campaigns import sms as sms_module
from campaigns.models import Campaign, CampaignVariant, Channel, Message
from campaigns.services import after_send, content
from campaigns.selectors.audience import not_allowed
from campaigns import tokens

log = logging.getLogger(__name__)

SEND_RELATED = ("customer", "customer__membership", "customer__membership__tier", "campaign", "campaign__offer",
                "campaign__survey",
                "automation", "automation__offer")


class TransientSendError(Exception):
    """The provider could not take the message now; it was not sent. Retry later."""


class PermanentSendError(Exception):
    """This message cannot be sent (bad address, refused); retrying will not help."""


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # not queued any more (sent by someone else, cancelled)
    campaign_ids: set = field(default_factory=set)


# --- queueing ---------------------------------------------------------------------------------


def enqueue_send(message_ids: Iterable[int]) -> int:
    """Queue sending tasks for these messages, CAMPAIGNS_CHUNK_SIZE per task, once the transaction commits.

    Queueing twice is harmless: each message is claimed by one task only."""
    ids = sorted(set(message_ids))
    if not ids:
        return 0
    size = settings.CAMPAIGNS_CHUNK_SIZE
    chunks = [ids[start:start + size] for start in range(0, len(ids), size)]

    def queue():
        from campaigns.tasks import send_messages

        for chunk in chunks:
            if not send_messages.delay_or_log(chunk, fallback="the dispatcher job queues stalled messages again"):
                return

    transaction.on_commit(queue)
    return len(chunks)


def queued_message_ids(queryset) -> list[int]:
    return list(queryset.filter(status=Message.Status.QUEUED).order_by("pk").values_list("pk", flat=True))


# --- sending ----------------------------------------------------------------------------------


def messages_send(*, message_ids: list[int]) -> SendResult:
    """Send these messages (those still queued); the body of the Celery task.

    Raises TransientSendError when the provider is unavailable: the message being sent is
    back in the queue, the ones after it were not touched."""
    result = SendResult()
    messages = list(
        Message.objects.filter(pk__in=message_ids, status=Message.Status.QUEUED).select_related(*SEND_RELATED)
        .annotate(_not_allowed=not_allowed(channel_field="channel", customer="customer__")).order_by("pk")
    )
    result.skipped = len(set(message_ids)) - len(messages)
    messages = _skip_not_allowed(messages, result)
    if not messages:
        for campaign_id in result.campaign_ids:
            campaign_refresh_counts(campaign_id)
        return result
    personal = content.personal_values(messages)
    variants = _variants_of(messages)
    links = {}
    sent: list[Message] = []
    email_connection = None
    try:
        for message in messages:
            token = uuid.uuid4()
            claimed = Message.objects.filter(pk=message.pk, status=Message.Status.QUEUED).update(
                status=Message.Status.SENDING, claim_token=token, claimed_at=timezone.now(), attempts=F("attempts") + 1,
            )
            if not claimed:
                result.skipped += 1
                continue
            if message.campaign_id:
                result.campaign_ids.add(message.campaign_id)
            try:
                rendered, to_address = _prepare(message, personal[message.pk], variants, links)
                if message.channel == Channel.EMAIL:
                    if email_connection is None:
                        email_connection = get_connection(fail_silently=False)
                        email_connection.open()
                    provider_id = _send_email(message, rendered, to_address, email_connection)
                else:
                    provider_id = _send_sms(message, rendered.sms, to_address)
            except TransientSendError as error:
                _release(message, token, str(error))
                raise
            except (PermanentSendError, ValidationError) as error:
                _fail(message, token, _error_text(error))
                result.failed += 1
                continue
            _mark_sent(message, token, provider_id, to_address, rendered)
            sent.append(message)
            result.sent += 1
    finally:
        if email_connection is not None:
            try:
                email_connection.close()
            except (OSError, smtplib.SMTPException):
                pass
        # Also when the provider became unavailable half way: the messages sent before it are sent.
        after_send.run_after_send(sent)
        for campaign_id in result.campaign_ids:
            campaign_refresh_counts(campaign_id)
    return result


def _skip_not_allowed(messages: list[Message], result: SendResult) -> list[Message]:
    """Eligibility is read again at send time, with the audience's own definition
    (audience.not_allowed, annotated in the query that loaded the messages): a customer who
    unsubscribed after the audience was frozen (or while an A/B winner was awaited) gets nothing."""
    skipped: dict[str, list[int]] = {}
    for message in messages:
        if message.is_addressed:
            message._not_allowed = ""  # the customer gave this address for this message (checked when written)
        if message._not_allowed:
            skipped.setdefault(message._not_allowed, []).append(message.pk)
    for reason, ids in skipped.items():
        result.skipped += Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).update(
            status=Message.Status.SKIPPED, skip_reason=reason)
        result.campaign_ids.update(message.campaign_id for message in messages if message.pk in ids and message.campaign_id)
    return [message for message in messages if not message._not_allowed]


def _error_text(error) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


def _variants_of(messages: list[Message]) -> dict[tuple[int, str], CampaignVariant]:
    campaign_ids = {message.campaign_id for message in messages if message.campaign_id}
    return {(variant.campaign_id, variant.label): variant
            for variant in CampaignVariant.objects.filter(campaign_id__in=campaign_ids)}


def _prepare(message: Message, personal: dict, variants: dict, links: dict) -> tuple:
    source = message.campaign or message.automation
    if source is None:
        raise PermanentSendError("The message belongs to no campaign or automation.")
    to_address = _address(message)
    if isinstance(source, Campaign):
        templates = content.campaign_templates(source, variants.get((source.pk, message.variant)), message.language)
    else:
        templates = content.automation_templates(source, message.variant, message.language)
    key = ("campaign" if isinstance(source, Campaign) else "automation", source.pk)
    if message.channel == Channel.EMAIL and key not in links:
        links[key] = content.record_links(source)
    coupon = content.coupon_for(message, source.offer)
    if coupon is not None and message.coupon_id != coupon.pk:
        Message.objects.filter(pk=message.pk).update(coupon=coupon)
    context = content.context_for(message, personal, offer=source.offer, coupon=coupon)
    rendered = content.render_for(message, templates, context, links=links.get(key))
    if message.channel == Channel.EMAIL and not (rendered.subject and rendered.html):
        raise PermanentSendError("The email has no subject or no body in this language or in English.")
    if message.channel == Channel.SMS and not rendered.sms:
        raise PermanentSendError("The SMS text is empty in this language and in English.")
    return rendered, to_address


def _address(message: Message) -> str:
    if message.is_addressed:
        if not message.to_address:
            raise PermanentSendError("The message has no address.")
        return message.to_address
    customer = message.customer
    if message.channel == Channel.EMAIL:
        if not customer.email:
            raise PermanentSendError("The customer has no email address.")
        return customer.email
    if not customer.phone:
        raise PermanentSendError("The customer has no phone number.")
    try:
        return sms_module.normalize_e164(str(customer.phone))
    except sms_module.PermanentSmsError as error:
        raise PermanentSendError(str(error)) from None


def build_email(*, message: Message | None, rendered, to_address: str, connection=None,
                marketing_headers: bool = True) -> EmailMultiAlternatives:
    headers = {}
    if message is not None:
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        # The same Message-ID on a repeated send lets receiving systems drop the duplicate.
        headers["Message-ID"] = f"<{message.public_id.hex}@{domain}>"
        headers["X-Message-Key"] = message.public_id.hex
        if marketing_headers:
            headers["List-Unsubscribe"] = f"<{tokens.unsubscribe_url(message)}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(rendered.subject, rendered.text, settings.DEFAULT_FROM_EMAIL, [to_address],
                                   headers=headers, connection=connection)
    email.attach_alternative(rendered.html, "text/html")
    return email


def _send_email(message: Message, rendered, to_address: str, connection) -> str:
    email = build_email(message=message, rendered=rendered, to_address=to_address, connection=connection,
                        marketing_headers=not message.is_addressed)
    try:
        sent = email.send(fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
        raise PermanentSendError(f"The mail server refused the message: {error}") from None
    except smtplib.SMTPResponseException as error:
        if 400 <= error.smtp_code < 500:
            raise TransientSendError(f"The mail server deferred the message: {error.smtp_code} {error.smtp_error!r}") from None
        raise PermanentSendError(f"The mail server refused the message: {error.smtp_code} {error.smtp_error!r}") from None
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError) as error:
        raise TransientSendError(f"The mail server is unavailable: {error}") from None
    except AnymailRecipientsRefused as error:
        raise PermanentSendError(f"The email provider refused the recipient: {error}") from None
    except AnymailRequestsAPIError as error:
        # 429, 5xx and no connection: the provider did not take the message. No answer in time: it may
        # have, so it is not sent again (at most once, as for SMTP). Anything else it refused for good.
        if isinstance(error, requests.Timeout) and not isinstance(error, requests.ConnectTimeout):
            raise PermanentSendError("The email provider did not answer in time; delivery unknown.") from None
        if error.status_code is None or error.status_code == 429 or error.status_code >= 500:
            raise TransientSendError(f"The email provider is unavailable: {error.status_code or error}") from None
        raise PermanentSendError(f"The email provider refused the message: {error.status_code}") from None
    except AnymailError as error:
        raise PermanentSendError(f"The email provider refused the message: {error}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise PermanentSendError(f"Sending failed; delivery unknown: {error}") from None
    if not sent:
        raise PermanentSendError("The email backend did not accept the message.")
    # Through django-anymail the provider's own message id: its tracking webhooks name the message by it.
    status = getattr(email, "anymail_status", None)
    provider_id = status.message_id if status is not None else None
    return str(provider_id) if provider_id is not None else email.extra_headers["Message-ID"]


def sms_idempotency_key(message: Message) -> str:
    """The message's public id; a new key for each time it is sent again after a failed delivery,
    since the provider drops a repeated key (the retry would not go out)."""
    key = message.public_id.hex
    return f"{key}-{message.delivery_retries}" if message.delivery_retries else key


def _send_sms(message: Message, text: str, to_address: str) -> str:
    try:
        return sms_module.send_sms(to=to_address, text=text, idempotency_key=sms_idempotency_key(message))
    except sms_module.TransientSmsError as error:
        raise TransientSendError(str(error)) from None
    except sms_module.PermanentSmsError as error:
        raise PermanentSendError(str(error)) from None


def _mark_sent(message: Message, token, provider_id: str, to_address: str, rendered) -> None:
    now = timezone.now()
    changes = {"status": Message.Status.SENT, "sent_at": now, "provider_id": (provider_id or "")[:100],
               "to_address": to_address[:254], "error": "", "claim_token": None}
    if message.channel == Channel.SMS:
        changes["sms_parts"] = sms_module.sms_length(rendered.sms).parts
    # What the source forgets once sent (a single-use token) goes in the same statement: never sent *and* kept.
    context = after_send.context_after_send(message)
    if context is not None:
        changes["context"] = context
    Message.objects.filter(pk=message.pk, claim_token=token).update(**changes)
    message.status, message.sent_at = Message.Status.SENT, now


def _release(message: Message, token, error: str) -> None:
    """Back to the queue (the provider did not take it); the task retries with backoff."""
    Message.objects.filter(pk=message.pk, claim_token=token).update(
        status=Message.Status.QUEUED, claim_token=None, claimed_at=None, error=error[:2000], queued_at=timezone.now(),
    )


def _fail(message: Message, token, error: str) -> None:
    changes = {}
    if message.is_addressed:  # never sent again (a new code is asked for instead): what it forgets goes now
        context = after_send.context_after_send(message)
        if context is not None:
            changes["context"] = context
    Message.objects.filter(pk=message.pk, claim_token=token).update(
        status=Message.Status.FAILED, failed_at=timezone.now(), error=error[:2000], claim_token=None, **changes,
    )


def messages_fail_queued(*, message_ids: list[int], error: str) -> int:
    """The retries are exhausted: what is still queued of these ends failed, with the error."""
    changed = Message.objects.filter(pk__in=message_ids, status=Message.Status.QUEUED).update(
        status=Message.Status.FAILED, failed_at=timezone.now(), error=error[:2000],
    )
    for campaign_id in set(Message.objects.filter(pk__in=message_ids, campaign__isnull=False)
                           .values_list("campaign_id", flat=True)):
        campaign_refresh_counts(campaign_id)
    return changed


def messages_sweep_stale(*, now: datetime | None = None, campaign: Campaign | None = None) -> int:
    """Messages left "sending" by a worker that died: failed "delivery unknown" (at most once),
    or queued again when the SMS provider deduplicates on our key."""
    now = now or timezone.now()
    stale = Message.objects.filter(status=Message.Status.SENDING,
                                   claimed_at__lt=now - timedelta(minutes=settings.CAMPAIGNS_STALE_SENDING_MINUTES))
    if campaign is not None:
        stale = stale.filter(campaign=campaign)
    requeued = 0
    from django.utils.module_loading import import_string

    if getattr(import_string(settings.SMS_BACKEND), "supports_idempotency", False):
        requeued = stale.filter(channel=Channel.SMS).update(
            status=Message.Status.QUEUED, claim_token=None, claimed_at=None, queued_at=now,
            error="Interrupted while sending; queued again (the SMS provider drops duplicates).",
        )
    campaign_ids = set(stale.filter(campaign__isnull=False).values_list("campaign_id", flat=True))
    failed = stale.update(
        status=Message.Status.FAILED, failed_at=now, claim_token=None,
        error="Interrupted while sending: delivery unknown. Not sent again automatically, to avoid a duplicate; "
              "use 'Resend to those that failed' to send it again.",
    )
    for campaign_id in campaign_ids:
        campaign_refresh_counts(campaign_id)
    return requeued + failed


def campaign_refresh_counts(campaign_id: int) -> None:
    """Refresh the sent/failed figures shown on list pages, and finish the campaign when nothing is left."""
    counts = dict(Message.objects.filter(campaign_id=campaign_id).order_by().values("status")
                  .annotate(n=Count("pk")).values_list("status", "n"))
    sent = sum(counts.get(status, 0) for status in (*Message.DELIVERED_STATUSES, Message.Status.BOUNCED))
    failed = counts.get(Message.Status.FAILED, 0)
    Campaign.objects.filter(pk=campaign_id).update(sent_count=sent, failed_count=failed)
    pending = sum(counts.get(status, 0) for status in (Message.Status.HELD, Message.Status.QUEUED, Message.Status.SENDING))
    if not pending:
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=timezone.now())


def stalled_message_ids(*, older_than_minutes: int = 10, now: datetime | None = None) -> list[int]:
    """Queued messages nobody picked up for a while (a lost task, a broker outage, a restarted worker)."""
    since = (now or timezone.now()) - timedelta(minutes=older_than_minutes)
    return list(
        Message.objects.filter(status=Message.Status.QUEUED)
        .filter(Q(queued_at__lt=since) | Q(queued_at__isnull=True, created_at__lt=since))
        .filter(Q(campaign__status=Campaign.Status.SENDING) | Q(automation__isnull=False))
        .order_by("pk").values_list("pk", flat=True)[:50_000]
    )
