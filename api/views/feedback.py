"""Surveys, their results and invitations; return requests."""

urlpatterns = []
