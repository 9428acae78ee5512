"""campaign_lift ID [--window-days N] [--json]"""

import json
import uuid

from django.core.management import BaseCommand, CommandError

from campaigns.management.commands._lift_cli import write_lift
from campaigns.models import Campaign
from campaigns.selectors.lift import WINDOW_DAYS, campaign_lift, window_days_clean
from core.replicas import replica_reads


class Command(BaseCommand):
    help = "What a campaign brought beyond its holdout: conversion, revenue and retention of both groups, and the lift."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", metavar="ID", help="The campaign's id (as in its admin address) or public id.")
        parser.add_argument("--window-days", default=WINDOW_DAYS,
                            help=f"Outcome window after the send, in days, 1 to 3650 (default {WINDOW_DAYS}).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    @replica_reads()
    def handle(self, *args, campaign_id, window_days, **options):
        try:
            window_days = window_days_clean(window_days)
        except ValueError as error:
            raise CommandError(f"--window-days: {error}") from None
        campaign = _campaign(str(campaign_id))
        if campaign is None:
            raise CommandError(f"No campaign with the id {campaign_id!r}.")
        lift = campaign_lift(campaign, window_days=window_days)
        if options["json"]:
            self.stdout.write(json.dumps({"campaign": campaign.pk, **lift.summary()}))
            return
        write_lift(self.stdout, [("Campaign", f"{campaign.pk} {campaign.name}")], lift)

def _campaign(reference: str) -> Campaign | None:
    if reference.isdigit():
        return Campaign.objects.filter(pk=int(reference)).first()
    try:
        return Campaign.objects.filter(public_id=uuid.UUID(reference)).first()
    except ValueError:
        return None
