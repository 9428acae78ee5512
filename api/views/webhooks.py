"""Webhook subscriptions of the partner."""

urlpatterns = []
