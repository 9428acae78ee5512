"""SegmentMetricSnapshot, AnalyticsRun and the RetentionDashboard proxy now belong to analytics
(analytics 0001 took their tables and rows): campaigns forgets them in its state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0006_campaign_events"),
        ("analytics", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="RetentionDashboard"),
                migrations.DeleteModel(name="AnalyticsRun"),
                migrations.DeleteModel(name="SegmentMetricSnapshot"),
            ],
        ),
    ]
