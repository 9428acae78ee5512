"""Logs every call to the partner API (partner, key prefix, method, path, status, duration): every
request whose path is under /api/v1/, whatever it carries (a NUL, control characters, an over-long method).

A middleware rather than a view hook, so calls refused before any view runs (401, 404 on an
unknown path, a crash) are logged too. DRF puts the authenticated key on the Django request."""

import logging
import re
import time
from urllib.parse import quote

from django.db import DatabaseError, connection

from api.models import ApiCall, ApiKey
from core.copy import db_values, insert_statement

logger = logging.getLogger("api.calls")
PREFIX = "/api/v1/"
METHOD_LENGTH = ApiCall._meta.get_field("method").max_length
PATH_LENGTH = ApiCall._meta.get_field("path").max_length


# Control characters (C0, DEL, C1) and the bidi controls that reorder what a reader sees.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PARTIAL_ESCAPE = re.compile(r"%[0-9A-F]?$")  # an escape the limit cut through


def _storable(text: str, limit: int) -> str:
    """What a log line and a text column take: every control or bidi character written as its %XX bytes
    (a NUL, which PostgreSQL refuses, is %00; a newline cannot forge a log line), at most `limit`
    characters, cut before an escape rather than through it.

    A request the API answered is logged however odd its path or method (issue 16: `%00` in the path,
    an over-long method), so nothing a caller sends can keep it out of the log."""
    escaped = UNPRINTABLE.sub(lambda match: quote(match.group(), safe=""), text)
    cut = escaped[:limit]
    if len(escaped) > limit:
        cut = PARTIAL_ESCAPE.sub("", cut)
    return cut


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
        # A key the caller holds but may not use (api.authentication): the caller was told only "Invalid
        # API key."; the owner reads why here and in the admin.
        refused_key, refusal = getattr(request, "api_key_refused", (None, ""))
        key = key or refused_key
        method, path = _storable(request.method or "", METHOD_LENGTH), _storable(request.path, PATH_LENGTH)
        logger.info("%s %s %s %s %s %dms%s", key.partner.name if key else "-", key.prefix if key else "-",
                    method, path, response.status_code, duration_ms, f" (key {refusal})" if refusal else "")
        try:
            _call_store(ApiCall(partner_id=key.partner_id if key else None, key_prefix=key.prefix if key else "",
                                method=method, path=path, status=response.status_code, duration_ms=duration_ms))
        except DatabaseError:
            # The log must never turn an answered request into an error.
            logger.exception("Could not store the API call log row")
        return response


def _call_store(call: ApiCall) -> None:
    """Insert the call's row without waiting for the disk (PostgreSQL), in one round trip.

    The row of a call that was answered is a log line, not a write the caller relies on: waiting for its WAL
    flush (and three more round trips of a transaction around `SET LOCAL`) was a quarter of a list call's time
    (issue 17). PostgreSQL runs the statements of one query string as one transaction, so `SET LOCAL` applies
    to this insert only. A crash of the database server may lose the last fraction of a second of log rows
    (at most three times `wal_writer_delay`); it can lose nothing else: every other write keeps
    `synchronous_commit` as configured. Inside a transaction (a test's) the row joins it as it is: `SET LOCAL`
    there would reach the whole transaction's other writes."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        call.save(force_insert=True)
        return
    statement, fields = insert_statement(ApiCall, [field.column for field in ApiCall._meta.concrete_fields
                                                   if not field.primary_key])
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL synchronous_commit TO OFF; {statement}",
                       db_values(fields, [getattr(call, field.attname) for field in fields]))
