"""The campaign's audit trail: each service that changes a campaign's state records who did it."""

from django.contrib.auth import get_user_model

from campaigns.models import Campaign, CampaignEvent
from core.audit import SOURCE_MAX_LENGTH, current_source


def campaign_event_record(*, campaign: Campaign, kind: str, by=None, **parameters) -> CampaignEvent:
    """One audit row: the change, its actor (a staff user, or None for the dispatcher and jobs) and its source."""
    user = by if isinstance(by, get_user_model()) and by.pk else None
    return CampaignEvent.objects.create(campaign_id=campaign.pk, kind=kind, by=user,
                                        source=current_source()[:SOURCE_MAX_LENGTH], parameters=parameters)
