"""campaign_lift ID [--window-days N] [--json]"""

import json
import uuid

from django.core.management import BaseCommand, CommandError

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
        data = lift.as_dict()

        def show(value, percent=False):
            if value is None:
                return "-"
            return f"{100 * value:.2f}%" if percent else str(value)

        rows = [
            ("Campaign", f"{campaign.pk} {campaign.name}"),
            ("Outcome window", f"{window_days} days" + ("" if data["window_complete"] else " (not over yet)")),
            ("", "recipients / holdout"),
            ("Customers", f"{data['treated']} / {data['holdout']}"),
            ("Converted", f"{data['treated_converted']} / {data['holdout_converted']}"),
            ("Conversion rate", f"{show(data['treated_rate'], True)} / {show(data['holdout_rate'], True)}"),
            ("Revenue per customer", f"{show(data['treated_revenue_per_customer'])} / "
                                     f"{show(data['holdout_revenue_per_customer'])}"),
            ("Retention", f"{show(data['treated_retention_rate'], True)} / {show(data['holdout_retention_rate'], True)}"),
            ("Lift (95% CI)", f"{show(data['lift'], True)} ({show(data['lift_ci_low'], True)} to "
                              f"{show(data['lift_ci_high'], True)})"),
            ("Revenue/customer diff", f"{show(data['revenue_per_customer_difference'])} "
                                      f"({show(data['revenue_per_customer_ci_low'])} to "
                                      f"{show(data['revenue_per_customer_ci_high'])})"),
            ("Incremental orders", show(data["incremental_orders"])),
            ("Incremental revenue", show(data["incremental_revenue"])),
        ]
        for label, value in rows:
            self.stdout.write(f"{label:<24} {value}")
        self.stdout.write(data["sentence"])


def _campaign(reference: str) -> Campaign | None:
    if reference.isdigit():
        return Campaign.objects.filter(pk=int(reference)).first()
    try:
        return Campaign.objects.filter(public_id=uuid.UUID(reference)).first()
    except ValueError:
        return None
