"""Who may get a message: consent, address, suppression and the frequency cap, in SQL.

One definition of eligibility, used at both ends of a message's life:
- `not_allowed(channel_field=..., customer=...)` says why a customer may not get a message on a
  channel ("" when they may): no consent or no address first, then the suppression list. The
  audience build reads it over Customer rows; the sender reads the very same expression over the
  Message rows it is about to send (`customer="customer__"`), in the query that loads them, so a
  customer who withdrew consent after the audience was frozen is skipped at send time by the
  same rule, not by a second copy of it in Python.
- `with_eligibility` annotates a Customer queryset with the channel each customer would get
  (`_channel`) and why they would be skipped (`_skip`: "" when they get it): `not_allowed`, then
  the frequency cap for marketing. Campaign freezes and automations both use it. The order of
  the checks is the order of the counts.

An offer (a campaign's or an automation's) is for active club members of the offer's tiers
(`offer_recipients`): everyone else is skipped as NOT_FOR_OFFER before any other check, so no
one gets "you have 0 points" with an empty coupon code, and the page says how many and why.

"Preferred channel": the customer has no explicit preference field, so preferred means email
when they can get email (consent and an address), otherwise SMS.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    BooleanField, Case, CharField, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns import holdout
from campaigns.models import Campaign, Channel, ChannelChoice, Message
from campaigns.segments import segment_customers
from campaigns.selectors.suppression import email_suppressed_expression, phone_suppressed_expression
from crm.models import Customer


def consent_and_address(channel: str, *, customer: str = "") -> Q:
    """The customer (reached through the `customer` prefix) agreed to the channel and has its address."""
    opt_in, address = ("email_opt_in", "email") if channel == Channel.EMAIL else ("sms_opt_in", "phone")
    return Q(**{f"{customer}{opt_in}": True, f"{customer}{address}__isnull": False}) & ~Q(**{f"{customer}{address}": ""})


def suppressed(channel: str, *, customer: str = ""):
    """EXISTS: the customer's address for the channel is on the suppression list."""
    if channel == Channel.EMAIL:
        return email_suppressed_expression(f"{customer}email")
    return phone_suppressed_expression(f"{customer}phone")


def not_allowed(*, channel_field: str, customer: str = "") -> Case:
    """Why a message on the channel named by `channel_field` may not go out: a SkipReason, or ""."""
    def reason(channel: str) -> Case:
        return Case(
            When(~consent_and_address(channel, customer=customer), then=Value(Message.SkipReason.NO_CONSENT)),
            When(suppressed(channel, customer=customer), then=Value(Message.SkipReason.SUPPRESSED)),
            default=Value(""), output_field=CharField(),
        )

    return Case(
        When(**{channel_field: Channel.EMAIL}, then=reason(Channel.EMAIL)),
        When(**{channel_field: Channel.SMS}, then=reason(Channel.SMS)),
        default=Value(Message.SkipReason.NO_CONSENT), output_field=CharField(),
    )


def campaign_audience(campaign: Campaign) -> QuerySet[Customer]:
    """Customers in any target segment and in no excluded segment (subqueries, one statement)."""
    targets = list(campaign.segments.all())
    if not targets:
        return Customer.objects.none()
    included = Q()
    for segment in targets:
        included |= Q(pk__in=segment_customers(segment).values("pk"))
    audience = Customer.objects.filter(included)
    for segment in campaign.excluded_segments.all():
        audience = audience.exclude(pk__in=segment_customers(segment).values("pk"))
    return audience


def offer_recipients(offer) -> Q:
    """Customers who may get the offer's coupon: active members, of its minimum tier or above,
    of a tier with exclusive offers when the offer is exclusive (as club.selectors.offers says)."""
    from club.models import Membership

    allowed = Q(membership__status=Membership.Status.ACTIVE)
    if offer.min_tier_id:
        allowed &= Q(membership__tier__rank__gte=offer.min_tier.rank)
    if offer.exclusive:
        allowed &= Q(membership__tier__exclusive_offers=True)
    return allowed


def recent_marketing_count(*, now: datetime | None = None):
    """Subquery: marketing messages planned or sent to the customer in the cap window."""
    since = (now or timezone.now()) - timedelta(days=settings.CAMPAIGNS_FREQUENCY_CAP_DAYS)
    recent = (
        Message.objects.filter(customer=OuterRef("pk"), is_marketing=True, created_at__gte=since,
                               status__in=Message.CAP_STATUSES)
        .order_by().values("customer").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(recent, output_field=IntegerField()), Value(0))


def with_eligibility(customers: QuerySet[Customer], *, channel: str, marketing: bool,
                     now: datetime | None = None, offer=None) -> QuerySet[Customer]:
    # The channel each customer would get ("" when none is possible: not_allowed says why).
    candidates = [Channel(channel)] if channel in (ChannelChoice.EMAIL, ChannelChoice.SMS) else [Channel.EMAIL, Channel.SMS]
    channel_expression = Case(*(When(consent_and_address(candidate), then=Value(candidate.value)) for candidate in candidates),
                              default=Value(""), output_field=CharField())
    annotated = customers.annotate(_channel=channel_expression)
    annotated = annotated.annotate(_not_allowed=not_allowed(channel_field="_channel"))
    rules = [When(~Q(_not_allowed=""), then=F("_not_allowed"))]
    if offer is not None:
        annotated = annotated.annotate(_for_offer=Case(When(offer_recipients(offer), then=Value(True)), default=Value(False),
                                                       output_field=BooleanField()))
        rules.insert(0, When(_for_offer=False, then=Value(Message.SkipReason.NOT_FOR_OFFER)))
    if marketing:
        annotated = annotated.annotate(_recent=recent_marketing_count(now=now))
        rules.append(When(_recent__gte=settings.CAMPAIGNS_FREQUENCY_CAP, then=Value(Message.SkipReason.FREQUENCY_CAP)))
    return annotated.annotate(_skip=Case(*rules, default=Value(""), output_field=CharField()))


@dataclass(frozen=True)
class AudienceCounts:
    matching: int = 0
    no_consent: int = 0
    suppressed: int = 0
    frequency_cap: int = 0
    not_for_offer: int = 0
    held_out: int = 0  # of the eligible: drawn into the holdout (campaigns.holdout), sent nothing

    @property
    def eligible(self) -> int:
        return self.matching - self.no_consent - self.suppressed - self.frequency_cap - self.not_for_offer

    @property
    def receiving(self) -> int:
        """The eligible customers outside the holdout: those the campaign is sent to."""
        return self.eligible - self.held_out

    @property
    def held_out_percent(self) -> float | None:
        """The holdout's actual share of the eligible, in percent (None when nobody is eligible)."""
        return 100 * self.held_out / self.eligible if self.eligible else None


def eligibility_counts(annotated: QuerySet[Customer], *, held_out=None) -> AudienceCounts:
    """One GROUP BY over the annotated audience: how many match, how many each reason skips and,
    given the holdout draw (`held_out_expression`), how many of the eligible it holds out."""
    figures = {"n": Count("pk")}
    if held_out is not None:
        figures["held"] = Count("pk", filter=held_out)
    rows = list(annotated.order_by().values("_skip").annotate(**figures))
    counts = {row["_skip"]: row["n"] for row in rows}
    held = sum(row.get("held", 0) for row in rows if row["_skip"] == "")
    return AudienceCounts(
        matching=sum(counts.values()),
        no_consent=counts.get(Message.SkipReason.NO_CONSENT, 0),
        suppressed=counts.get(Message.SkipReason.SUPPRESSED, 0),
        frequency_cap=counts.get(Message.SkipReason.FREQUENCY_CAP, 0),
        not_for_offer=counts.get(Message.SkipReason.NOT_FOR_OFFER, 0),
        held_out=held,
    )


def campaign_holdout(campaign: Campaign):
    """The campaign's holdout draw as a boolean SQL expression over Customer rows (the send's own)."""
    return holdout.held_out_expression(campaign.holdout_seed, campaign.holdout_percent)


def campaign_audience_estimate(campaign: Campaign) -> AudienceCounts:
    """What a send would do now: the audience (segments minus exclusions), who would be skipped and,
    of the others, who the campaign's draw holds out (one statement, whatever the audience's size)."""
    audience = with_eligibility(campaign_audience(campaign), channel=campaign.channel, marketing=True,
                                offer=campaign.offer)
    return eligibility_counts(audience, held_out=campaign_holdout(campaign) if campaign.holdout_percent else None)


def _would_receive(campaign: Campaign) -> QuerySet[Customer]:
    """The customers a send would reach now: the audience less everyone a reason skips."""
    return with_eligibility(campaign_audience(campaign), channel=campaign.channel, marketing=True,
                            offer=campaign.offer).filter(_skip="")


def _has_picks() -> Exists:
    """The customer has picks for {{ recommendations }} (products on sale only, as recommendations_for reads)."""
    from crm.models import Recommendation

    return Exists(Recommendation.objects.filter(customer=OuterRef("pk"), product__is_active=True))


def campaign_sample_recipient(campaign: Campaign, *, with_recommendations: bool = False) -> Customer | None:
    """A customer who would really get the campaign (first by id), for the preview and a test send;
    None when nobody would. `with_recommendations` (the content says {{ recommendations }}): the first
    such customer who has picks, so the sample shows them; the first recipient when nobody has any."""
    audience = _would_receive(campaign).select_related("membership__tier").order_by("pk")
    sample = audience.filter(_has_picks()).first() if with_recommendations else None
    return sample or audience.first()


def campaign_recipients_without_recommendations(campaign: Campaign) -> int:
    """How many of those who would get the campaign now have no picks for {{ recommendations }} (one query)."""
    return _would_receive(campaign).exclude(_has_picks()).order_by().count()
