from feedback.services.surveys import (
    InvitationUnavailable,
    NewInvitation,
    invitation_check_open,
    invitation_create,
    invitation_for_token,
    invitation_mark_opened,
    invitation_mark_sent,
    invitations_for_fulfilled_orders,
    invite_after_resolved_interaction,
    response_submit,
)

__all__ = [
    "InvitationUnavailable",
    "NewInvitation",
    "invitation_check_open",
    "invitation_create",
    "invitation_for_token",
    "invitation_mark_opened",
    "invitation_mark_sent",
    "invitations_for_fulfilled_orders",
    "invite_after_resolved_interaction",
    "response_submit",
]
