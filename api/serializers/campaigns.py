"""Campaigns and automations: their lift over the holdout."""

from rest_framework import serializers

from api.serializers.base import StrictSerializer


class LiftQuerySerializer(StrictSerializer):
    """The parameters a lift query may carry (an unknown one is refused)."""

    window_days = serializers.IntegerField(required=False, min_value=1, max_value=3650,
                                           help_text="Outcome window after the send, in days (default 30).")


class AutomationLiftQuerySerializer(LiftQuerySerializer):
    """An automation's lift: the entries' period [start, end) and the outcome window."""

    start = serializers.CharField(help_text="First day of the entries, YYYY-MM-DD.")
    end = serializers.CharField(help_text="The day after the last day of the entries, YYYY-MM-DD (end excluded).")


class LiftSerializer(serializers.Serializer):
    """The JSON of `manage.py campaign_lift ID --json`, and the details the admin's report shows.
    Rates are fractions; money is a string with two decimals; null where a group is empty."""

    campaign = serializers.UUIDField(help_text="The campaign's public id (the command prints its id).")
    window_days = serializers.IntegerField()
    treated = serializers.IntegerField(help_text="Recipients: customers the campaign was meant to reach.")
    holdout = serializers.IntegerField(help_text="Customers drawn into the holdout, sent nothing.")
    treated_converted = serializers.IntegerField()
    holdout_converted = serializers.IntegerField()
    treated_rate = serializers.FloatField(allow_null=True)
    holdout_rate = serializers.FloatField(allow_null=True)
    lift = serializers.FloatField(allow_null=True, help_text="treated_rate - holdout_rate.")
    lift_ci_low = serializers.FloatField(allow_null=True, help_text="95% Newcombe hybrid score interval.")
    lift_ci_high = serializers.FloatField(allow_null=True)
    treated_revenue_per_customer = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    holdout_revenue_per_customer = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    incremental_revenue = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True,
                                                   help_text="Revenue per customer difference x treated.")
    treated_orders = serializers.IntegerField()
    holdout_orders = serializers.IntegerField()
    treated_revenue = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    holdout_revenue = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    treated_retention_rate = serializers.FloatField(allow_null=True, help_text="Active at the end of the window.")
    holdout_retention_rate = serializers.FloatField(allow_null=True)
    revenue_per_customer_difference = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    revenue_per_customer_ci_low = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True,
                                                           help_text="95% Welch interval.")
    revenue_per_customer_ci_high = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    incremental_orders = serializers.FloatField(allow_null=True, help_text="lift x treated.")
    window_ends = serializers.DateTimeField(allow_null=True)
    window_complete = serializers.BooleanField()
    measurable = serializers.BooleanField(help_text="The lift's interval excludes zero.")
    sentence = serializers.CharField()


def _figures(serializer_class) -> dict:
    """The lift's figures, each a fresh field (a field instance belongs to one serializer)."""
    return {name: field.__class__(*field._args, **field._kwargs)
            for name, field in serializer_class._declared_fields.items() if name != "campaign"}


AutomationLiftSerializer = type("AutomationLiftSerializer", (serializers.Serializer,), {
    "__doc__": "The JSON of `manage.py automation_lift ID --start --end --json`, and the details the admin's report "
               "shows: each entry of the period measured from its own send date. Rates are fractions; money is a "
               "string with two decimals; null where a group is empty.",
    "__module__": __name__,
    "automation": serializers.UUIDField(help_text="The automation's public id (the command prints its id)."),
    "start": serializers.DateField(help_text="First day of the entries."),
    "end": serializers.DateField(help_text="The day after the last day of the entries."),
    **_figures(LiftSerializer),
})
