"""Who may get a message: consent, address, suppression and the frequency cap, in SQL.

`with_eligibility` annotates a Customer queryset with the channel each customer would get
(`_channel`) and why they would be skipped (`_skip`: "" when they get it). Campaign freezes
and automations both use it, so the rules are the same everywhere. The order of the checks
is the order of the counts: no consent (or no address) first, then suppression, then the cap.

"Preferred channel": the customer has no explicit preference field, so preferred means email
when they can get email (consent and an address), otherwise SMS.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import Campaign, ChannelChoice, Message
from campaigns.segments import segment_customers
from campaigns.services.suppression import email_suppressed_expression, phone_suppressed_expression
from crm.models import Customer

EMAIL_OK = Q(email_opt_in=True, email__isnull=False) & ~Q(email="")
SMS_OK = Q(sms_opt_in=True, phone__isnull=False) & ~Q(phone="")


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
                     now: datetime | None = None) -> QuerySet[Customer]:
    if channel == ChannelChoice.EMAIL:
        channel_expression = Value("email")
        consent = EMAIL_OK
    elif channel == ChannelChoice.SMS:
        channel_expression = Value("sms")
        consent = SMS_OK
    else:
        channel_expression = Case(When(EMAIL_OK, then=Value("email")), When(SMS_OK, then=Value("sms")), default=Value(""))
        consent = EMAIL_OK | SMS_OK
    annotated = customers.annotate(
        _channel=Case(When(consent, then=channel_expression), default=Value(""), output_field=CharField()),
        _email_suppressed=email_suppressed_expression(),
        _phone_suppressed=phone_suppressed_expression(),
    )
    suppressed = Q(_channel="email", _email_suppressed=True) | Q(_channel="sms", _phone_suppressed=True)
    rules = [When(_channel="", then=Value(Message.SkipReason.NO_CONSENT)),
             When(suppressed, then=Value(Message.SkipReason.SUPPRESSED))]
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

    @property
    def eligible(self) -> int:
        return self.matching - self.no_consent - self.suppressed - self.frequency_cap


def eligibility_counts(annotated: QuerySet[Customer]) -> AudienceCounts:
    """One GROUP BY over the annotated audience: how many match, and how many each reason skips."""
    counts = dict(annotated.order_by().values("_skip").annotate(n=Count("pk")).values_list("_skip", "n"))
    return AudienceCounts(
        matching=sum(counts.values()),
        no_consent=counts.get(Message.SkipReason.NO_CONSENT, 0),
        suppressed=counts.get(Message.SkipReason.SUPPRESSED, 0),
        frequency_cap=counts.get(Message.SkipReason.FREQUENCY_CAP, 0),
    )


def campaign_audience_estimate(campaign: Campaign) -> AudienceCounts:
    """What a send would do now: the audience (segments minus exclusions) and who would be skipped."""
    audience = with_eligibility(campaign_audience(campaign), channel=campaign.channel, marketing=True)
    return eligibility_counts(audience)
