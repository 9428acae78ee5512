"""Segments, their customers and their retention metrics."""

urlpatterns = []
