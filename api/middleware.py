"""Logs every call to the partner API (partner, key prefix, method, path, status, duration).

A middleware rather than a view hook, so calls refused before any view runs (401, 404 on an
unknown path, a crash) are logged too. DRF puts the authenticated key on the Django request."""

import logging
import time

from django.db import DatabaseError

from api.models import ApiCall, ApiKey

logger = logging.getLogger("api.calls")
PREFIX = "/api/v1/"
METHOD_LENGTH = ApiCall._meta.get_field("method").max_length
PATH_LENGTH = ApiCall._meta.get_field("path").max_length


def _storable(text: str, limit: int) -> str:
    """What a text column takes: no NUL (PostgreSQL refuses it; written back as %00), at most `limit` characters.

    A request the API answered is logged however odd its path or method (issue 16: `%00` in the path,
    an over-long method), so nothing a caller sends can keep it out of the log."""
    return text.replace("\x00", "%00")[:limit]


class ApiCallLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = int((time.perf_counter() - started) * 1000)
        key = getattr(request, "auth", None)
        key = key if isinstance(key, ApiKey) else None
        method, path = _storable(request.method or "", METHOD_LENGTH), _storable(request.path, PATH_LENGTH)
        logger.info("%s %s %s %s %s %dms", key.partner.name if key else "-", key.prefix if key else "-",
                    method, path, response.status_code, duration_ms)
        try:
            ApiCall.objects.create(
                partner_id=key.partner_id if key else None, key_prefix=key.prefix if key else "", method=method,
                path=path, status=response.status_code, duration_ms=duration_ms,
            )
        except DatabaseError:
            # The log must never turn an answered request into an error.
            logger.exception("Could not store the API call log row")
        return response
