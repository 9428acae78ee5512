"""What a message says: the content for the customer's language and variant, personalised.

Content is translated per language (en, fa, ar); each field falls back to English when the
customer's language has no text. A variant's empty field falls back to the campaign's.
The personalisation context is built per chunk of messages in a fixed number of queries
(customers, memberships, expiring points; the picks of {{ recommendations }} when a message uses it),
never one query per customer.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns import recommendations, rendering, sms as sms_module, tokens
from campaigns.models import Automation, Campaign, CampaignVariant, Channel, Message, TrackedLink
from club.card import card_link
from club.models import Coupon, Membership, Offer
from crm.models import Order
from feedback.services.returns import order_return_link
from feedback.services.survey_links import pending_invitations, survey_link
from core.templatetags.localized import local_date, local_number

FALLBACK_LANGUAGE = "en"
DATE_KEYS = ("expires_on", "coupon_expires_on", "points_expiring_on")
NUMBER_KEYS = ("points_balance", "points_expiring", "points", "code_minutes")
CONTENT_FIELDS = ("subject", "body", "sms_text")

# Appended to every SMS: how to opt out, in the customer's language. A dict rather than
# gettext so that the right words ("لغو", "إلغاء") reach customers even before the
# translation catalogues are compiled; inbound_sms_record understands each of them.
SMS_OPT_OUT = {
    "en": "Reply STOP to opt out",
    "fa": "لغو: ارسال «لغو»",
    "ar": "لإلغاء الاشتراك أرسل «إلغاء»",
}


def _languages(language: str) -> list[str]:
    return [language, FALLBACK_LANGUAGE] if language != FALLBACK_LANGUAGE else [FALLBACK_LANGUAGE]


def _translated(obj, field: str, language: str) -> str:
    return getattr(obj, f"{field}_{language}", None) or ""


def content_in(obj, field: str, language: str) -> str:
    """A translated field (club/translation.py: tier name, offer title...) in the message's language, not
    the sending worker's; English when that language has no text."""
    return next((text for code in _languages(language) if (text := _translated(obj, field, code))), "") \
        or str(getattr(obj, field) or "")


def campaign_templates(campaign: Campaign, variant: CampaignVariant | None, language: str) -> dict[str, str]:
    """The template of each content field: variant then campaign, in the language then in English."""
    chosen = {}
    for field in CONTENT_FIELDS:
        value = ""
        for code in _languages(language):
            for source in (variant, campaign):
                if source is not None:
                    value = _translated(source, field, code)
                    if value:
                        break
            if value:
                break
        chosen[field] = value
    return chosen


def automation_templates(automation: Automation, variant: str, language: str) -> dict[str, str]:
    chosen = {}
    for field in CONTENT_FIELDS:
        names = ["subject_b", "subject"] if field == "subject" and variant == "B" else [field]
        value = ""
        for code in _languages(language):
            for name in names:
                value = _translated(automation, name, code)
                if value:
                    break
            if value:
                break
        chosen[field] = value
    return chosen


def all_templates(source: Campaign | Automation) -> list[str]:
    """Every content template of a campaign (with its variants) or an automation, all languages."""
    languages = [code for code, _name in settings.LANGUAGES]
    objects = [source, *(source.variants.all() if isinstance(source, Campaign) else [])]
    names = ("subject", "subject_b", "body", "sms_text") if isinstance(source, Automation) else CONTENT_FIELDS
    return [value for obj in objects for name in names for code in languages if (value := _translated(obj, name, code))]


def record_links(source: Campaign | Automation) -> dict[str, int]:
    """Record the links of the content (url -> TrackedLink id); only these are ever redirected to."""
    urls = []
    for template in all_templates(source):
        for url in rendering.links_in(template):
            if url not in urls and len(url) <= 2000:
                urls.append(url)
    owner = {"campaign": source} if isinstance(source, Campaign) else {"automation": source}
    TrackedLink.objects.bulk_create([TrackedLink(url=url, **owner) for url in urls], ignore_conflicts=True)
    return dict(TrackedLink.objects.filter(**owner, url__in=urls).values_list("url", "pk"))


# --- personalisation ---------------------------------------------------------------------------


@dataclass
class Personal:
    """What the templates may say about one customer (plain values only)."""

    values: dict


def _format_date(value, language: str) -> str:
    """As the customer's language writes a date: the Jalali calendar and Persian digits for fa."""
    return local_date(value, language) if value else ""


class LocalNumber(int):
    """A whole number that compares, tests and adds like an int in a template (`{% if points > 100 %}`)
    but prints in the digits of the message's language (fa: ۱٬۲۵۰)."""

    language = FALLBACK_LANGUAGE

    def __new__(cls, value: int, language: str):
        number = super().__new__(cls, value)
        number.language = language
        return number

    def __str__(self):
        return local_number(int(self), self.language)


def expiring_points_by_member(member_ids: list[int]) -> dict[int, tuple[int, object]]:
    """{member_id: (points expiring within CLUB_EXPIRY_WARNING_DAYS, first date)} in one query."""
    from club.services import credit_remaining, credits_with_remaining

    if not member_ids:
        return {}
    end = timezone.now() + timedelta(days=settings.CLUB_EXPIRY_WARNING_DAYS + 1)
    totals: dict[int, list] = defaultdict(lambda: [0, None])
    for credit in credits_with_remaining(member_ids).order_by():
        if credit.expires_at is None or credit.expires_at >= end:
            continue
        left = credit_remaining(credit)
        if left > 0:
            entry = totals[credit.member_id]
            entry[0] += left
            entry[1] = min(entry[1], credit.expires_at) if entry[1] else credit.expires_at
    return {member_id: (points, timezone.localdate(first)) for member_id, (points, first) in totals.items()}


def personal_values(messages: list[Message]) -> dict[int, dict]:
    """{message id: placeholders} for messages whose customers are already loaded (select_related)."""
    members = {}
    for message in messages:
        member = getattr(message.customer, "membership", None) if _has_membership(message.customer) else None
        if member is not None:
            members[message.pk] = member
    expiring = expiring_points_by_member(sorted({member.pk for member in members.values()}))
    returnable = returnable_order_by_message(messages)
    pending = pending_invitations({message.customer_id for message in messages})
    picks = recommendations.BatchPicks(message.customer_id for message in messages)  # read when first used
    values = {}
    for message in messages:
        customer, member = message.customer, members.get(message.pk)
        points, first = expiring.get(member.pk, (0, None)) if member else (0, None)
        values[message.pk] = {
            "first_name": customer.first_name, "last_name": customer.last_name,
            "tier": content_in(member.tier, "name", message.language) if member and member.tier_id else "",
            "member_number": member.member_number if member else "",
            "points_balance": member.points_balance if member else 0,
            "points_expiring": points, "points_expiring_on": _format_date(first, message.language),
            "card_url": tokens.absolute(card_link(member)) if member else "",
            "return_url": tokens.absolute(order_return_link(returnable[message.pk])) if message.pk in returnable else "",
            **_survey_values(customer, _chosen_survey(message) or _pending_survey(pending, message.customer_id),
                             message.language),
            "recommendations": recommendations.Picks(picks, message.customer_id, message.language),
        }
    return values


def _chosen_survey(message: Message):
    """The survey the message's campaign chose for {{ survey_url }} (loaded with the campaign), or None."""
    campaign = message.campaign if message.campaign_id else None
    return campaign.survey if campaign is not None and campaign.survey_id and campaign.survey.is_active else None


def _pending_survey(pending: dict, customer_id: int):
    """The survey the customer was invited to and has not answered yet (pending_invitations), or None."""
    invitation = pending.get(customer_id)
    return invitation.survey if invitation is not None else None


def _survey_values(customer, survey, language: str) -> dict:
    """{{ survey_url }} and {{ survey }} of a campaign or notice, through the customer's reusable link
    (feedback.services.survey_links) to `survey`: the one the campaign chose, else the one the customer was
    invited to and has not answered yet. A message that is itself an invitation (post-purchase, survey
    invitation) carries its own link, which wins."""
    if survey is None:
        return {"survey_url": "", "survey": ""}
    return {"survey_url": tokens.absolute(survey_link(survey=survey, customer=customer)),
            "survey": getattr(survey, f"title_{language}", None) or survey.title}


def returnable_order_by_message(messages: list[Message]) -> dict[int, Order]:
    """{message id: the order its return link is for}, in one query: the message's own order (a
    post-purchase message's occasion "order:<id>"), else the customer's latest order still within
    the return window. Cancelled and fully refunded orders have nothing to return."""
    own = {message.pk: int(message.occasion.split(":", 1)[1]) for message in messages
           if (message.occasion or "").startswith("order:") and message.occasion.split(":", 1)[1].isdigit()}
    since = timezone.now() - timedelta(days=settings.FEEDBACK_RETURN_WINDOW_DAYS)
    customer_ids = {message.customer_id for message in messages if message.pk not in own}
    orders = (Order.objects.exclude(status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED])
              .filter(Q(pk__in=own.values()) | Q(customer_id__in=customer_ids, placed_at__gte=since))
              .only("pk", "public_id", "customer_id", "placed_at").order_by("placed_at", "pk"))
    by_pk, latest = {}, {}
    for order in orders:
        by_pk[order.pk] = order
        if order.placed_at >= since:
            latest[order.customer_id] = order  # ordered by date: the last one wins
    chosen = {}
    for message in messages:
        order = by_pk.get(own[message.pk]) if message.pk in own else latest.get(message.customer_id)
        if order is not None:
            chosen[message.pk] = order
    return chosen


def _has_membership(customer) -> bool:
    try:
        customer.membership
    except Membership.DoesNotExist:
        return False
    return True


def coupon_for(message: Message, offer: Offer | None) -> Coupon | None:
    """The recipient's own coupon for the message's offer (members only), issued once.

    The idempotency key makes a retried or redelivered task get the very same coupon."""
    from club.services import coupon_issue

    if offer is None or not _has_membership(message.customer):
        return None
    if message.campaign_id:
        key = f"campaign:{message.campaign_id}:{message.customer_id}"
    else:
        key = f"automation:{message.automation_id}:{message.customer_id}:{message.occasion}"[:200]
    valid_days = offer.coupon_valid_days or settings.CLUB_COUPON_VALID_DAYS
    with transaction.atomic():
        return coupon_issue(
            member=message.customer.membership, kind=Coupon.Kind.CAMPAIGN, discount_kind=offer.kind, value=offer.value,
            offer=offer, min_order_value=offer.min_order_value, expires_at=timezone.now() + timedelta(days=valid_days),
            idempotency_key=key,
        )


def context_for(message: Message, personal: dict, *, offer: Offer | None, coupon: Coupon | None) -> dict:
    from club.services import coupon_code_format

    # An addressed message goes to an address the customer's record may not hold: nothing of the record goes with it.
    context = {} if message.is_addressed else dict(personal)
    context.update({key: value for key, value in (message.context or {}).items() if key in rendering.PLACEHOLDERS})
    for key in DATE_KEYS:  # club notices carry ISO dates: show them as the customer's language writes dates
        if isinstance(context.get(key), str):
            try:
                context[key] = _format_date(date.fromisoformat(context[key][:10]), message.language)
            except ValueError:
                pass
    if "coupon" in (message.context or {}) and not coupon:  # a club notice carries its coupon (birthday)
        context["coupon_code"] = coupon_code_format(message.context["coupon"])
    if offer is not None:
        context.update(offer=content_in(offer, "title", message.language),
                       offer_description=content_in(offer, "description", message.language))
    if coupon is not None:
        context.update(coupon_code=coupon_code_format(coupon.code),
                       coupon_expires_on=_format_date(timezone.localdate(coupon.expires_at), message.language))
    if message.channel == Channel.EMAIL and message.public_id and not message.is_addressed:
        context["unsubscribe_url"] = tokens.unsubscribe_url(message)
    for key in NUMBER_KEYS:
        if isinstance(context.get(key), int) and not isinstance(context[key], bool):
            context[key] = LocalNumber(context[key], message.language)
    return context


def render_for(message: Message, templates: dict[str, str], context: dict, *, links: dict[str, int] | None = None,
               track: bool = True) -> rendering.Rendered:
    """Render one message: HTML with tracked links, an open pixel and an unsubscribe footer; or an SMS
    with the opt-out instruction."""
    language = message.language if message.language in SMS_OPT_OUT else FALLBACK_LANGUAGE
    with translation.override(language):
        if message.channel == Channel.SMS:
            text = rendering.render(templates["sms_text"], context, autoescape=False).strip()
            return rendering.Rendered(sms=f"{text}\n{SMS_OPT_OUT[language]}" if text else "")
        subject = " ".join(rendering.render(templates["subject"], context, autoescape=False).split())
        body = rendering.render(templates["body"], context, autoescape=True)
        if "unsubscribe_url" in context and context["unsubscribe_url"] not in body:
            body += '\n<p style="font-size:12px;color:#666">{}</p>'.format(
                '<a href="{}">{}</a>'.format(context["unsubscribe_url"], _("Unsubscribe from these messages")))
        if track and links:
            body = rendering.rewrite_links(body, {url: tokens.click_url(message, link_id) for url, link_id in links.items()})
        text = rendering.html_to_text(body)
        if track and message.pk:
            body += f'\n<img src="{tokens.open_url(message)}" width="1" height="1" alt="" style="display:block;border:0">'
        direction = "rtl" if translation.get_language_bidi() else "ltr"
        html = f'<div dir="{direction}" lang="{language}">{body}</div>'
        return rendering.Rendered(subject=subject, html=html, text=text)


def sms_length_of(text: str) -> sms_module.SmsLength:
    return sms_module.sms_length(text)
