"""The campaigns admin, a module per page: segments, campaigns (and their forms), messages,
automations, the suppression list and inbound SMS. Importing the package registers every
ModelAdmin, the way Django's admin autodiscovery expects of `campaigns.admin`.
"""

from campaigns.admin.segments import (
    SAMPLE_SIZE, AddToSegmentForm, CsvUploadForm, RuleBuilderWidget, SegmentAdmin, SegmentForm, SegmentMemberAdmin,
    add_to_static_segment,
)
from campaigns.admin.campaigns import CampaignAdmin, report_charts
from campaigns.admin.messages import EngagementFilter, MessageAdmin
from campaigns.admin.automations import AutomationAdmin, AutomationForm
from campaigns.admin.suppression import InboundSmsAdmin, SuppressionAddForm, SuppressionAdmin

__all__ = [
    "SAMPLE_SIZE", "AddToSegmentForm", "AutomationAdmin", "AutomationForm", "CampaignAdmin", "CsvUploadForm",
    "EngagementFilter", "InboundSmsAdmin", "MessageAdmin", "RuleBuilderWidget", "SegmentAdmin", "SegmentForm",
    "SegmentMemberAdmin", "SuppressionAddForm", "SuppressionAdmin", "add_to_static_segment", "report_charts",
]
