"""The write side of campaigns: campaigns, sending, tracking, automations, the suppression list.

Admin views, tasks, jobs and the partner API call these; none re-implements them.
Segments have their own module (campaigns.segments); reads (reports, the audience, suppression
lookups) are in campaigns.selectors.
"""

from campaigns.services.addressed import addressed_message_send
from campaigns.services.automations import (
    automation_messages_create, on_invitation_created, on_member_notification, post_purchase_run, replenishment_run,
    win_back_run,
)
from campaigns.services.campaigns import (
    campaign_cancel, campaign_check_ready, campaign_pick_winner, campaign_resend_failed, campaign_resume,
    campaign_schedule, campaign_send_now, campaign_start, campaign_unschedule, campaigns_dispatch, variants_validate,
)
from campaigns.services.events import campaign_event_record
from campaigns.services.preview import Preview, campaign_preview, campaign_test_send
from campaigns.services.sending import (
    PermanentSendError, TransientSendError, campaign_refresh_counts, enqueue_send, messages_fail_queued, messages_send,
    messages_sweep_stale,
)
from campaigns.services.suppression import suppression_add
from campaigns.services.tracking import (
    conversion_record, conversions_catch_up, inbound_sms_record, is_stop_request, link_for_click, message_for_token,
    message_mark_clicked, message_mark_opened, message_unsubscribe,
)

__all__ = [
    "PermanentSendError", "Preview", "TransientSendError", "addressed_message_send", "automation_messages_create",
    "campaign_cancel", "campaign_check_ready", "campaign_event_record", "campaign_pick_winner", "campaign_preview",
    "campaign_refresh_counts", "campaign_resend_failed", "campaign_resume", "campaign_schedule", "campaign_send_now",
    "campaign_start", "campaign_test_send", "campaign_unschedule", "campaigns_dispatch", "conversion_record",
    "conversions_catch_up", "enqueue_send", "inbound_sms_record", "is_stop_request",
    "link_for_click", "message_for_token", "message_mark_clicked", "message_mark_opened",
    "message_unsubscribe", "messages_fail_queued", "messages_send", "messages_sweep_stale", "on_invitation_created",
    "on_member_notification", "post_purchase_run", "replenishment_run", "suppression_add",
    "variants_validate", "win_back_run",
]
