"""The campaigns app's models, a module per subdomain: segments, campaigns and automations,
messages and their links, the suppression list, inbound SMS, what providers report back. Every model keeps its app label
and its import path `campaigns.models.X`; the import order below is the order the models
were declared in when this was one module."""

from campaigns.models.segments import Segment, SegmentCustomer, SegmentMember
from campaigns.models.campaigns import Automation, Campaign, CampaignEvent, CampaignVariant, Channel, ChannelChoice
from campaigns.models.messages import ENGAGEMENT_TIMESTAMPS, Engagement, Message, MessageQuerySet, TrackedLink
from campaigns.models.suppression import Suppression
from campaigns.models.sms import InboundSms
from campaigns.models.delivery import DeliveryEvent

__all__ = [
    "ENGAGEMENT_TIMESTAMPS", "Automation", "Campaign", "CampaignEvent", "CampaignVariant", "Channel", "ChannelChoice",
    "DeliveryEvent", "Engagement", "InboundSms", "Message", "MessageQuerySet", "Segment", "SegmentCustomer", "SegmentMember",
    "Suppression", "TrackedLink",
]
