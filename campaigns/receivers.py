"""How campaigns reacts to the events of the apps below it and of the email providers (connected in CampaignsConfig.ready)."""

from anymail import signals as anymail_signals

from campaigns.services import automations, delivery, tracking
from club import signals as club_signals
from crm import signals as crm_signals
from feedback import signals as feedback_signals


def connect() -> None:
    crm_signals.orders_created.connect(tracking.on_orders_created, dispatch_uid="campaigns.conversions")
    club_signals.member_notification.connect(automations.on_member_notification, dispatch_uid="campaigns.member_notification")
    feedback_signals.invitation_created.connect(automations.on_invitation_created, dispatch_uid="campaigns.invitations")
    feedback_signals.return_updated.connect(automations.on_return_updated, dispatch_uid="campaigns.return_updates")
    # The email provider's tracking webhooks (anymail checked their signature) report back on messages.
    anymail_signals.tracking.connect(delivery.on_anymail_tracking, dispatch_uid="campaigns.email_tracking")
