"""The read side of campaigns: reports and progress (`reports`), who may be sent what (`audience`),
and the suppression list's lookups (`suppression`). Nothing here writes."""

from campaigns.selectors.audience import (
    AudienceCounts, campaign_audience, campaign_audience_estimate, consent_and_address, eligibility_counts, not_allowed,
    recent_marketing_count, suppressed, with_eligibility,
)
from campaigns.selectors.reports import (
    Report, ReportRow, automation_report, campaign_progress, campaign_report, messages_report, test_send_customer,
    timeline_delivery_events, timeline_messages,
)
from campaigns.selectors.suppression import (
    email_suppressed_expression, is_suppressed, phone_suppressed_expression, suppression_hash,
)

__all__ = [
    "AudienceCounts", "Report", "ReportRow", "automation_report", "campaign_audience", "campaign_audience_estimate",
    "campaign_progress", "campaign_report", "consent_and_address", "eligibility_counts", "email_suppressed_expression",
    "is_suppressed", "messages_report", "not_allowed", "phone_suppressed_expression", "recent_marketing_count",
    "suppressed", "suppression_hash", "test_send_customer", "timeline_delivery_events", "timeline_messages", "with_eligibility",
]
