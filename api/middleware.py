"""Logs every call to the partner API (partner, key prefix, method, path, status, duration): every
request whose path is under /api/v1/, whatever it carries (a NUL, control characters, an over-long method).

A middleware rather than a view hook, so calls refused before any view runs (401, 404 on an
unknown path, a crash) are logged too. DRF puts the authenticated key on the Django request."""

import atexit
import logging
import os
import re
import threading
import time
from urllib.parse import quote

from django.conf import settings
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
        call_log.add(ApiCall(partner_id=key.partner_id if key else None, key_prefix=key.prefix if key else "",
                             method=method, path=path, status=response.status_code, duration_ms=duration_ms))
        return response


class CallLogBuffer:
    """The calls a web process answered, stored in one multi-row INSERT by a thread of the process that gathers
    them for API_CALL_LOG_FLUSH_MS after the first (issue 17: a round trip of the request's own was a fifth of a
    list call's time), on a database connection of its own; at once when API_CALL_LOG_BUFFER_ROWS wait, and at
    the process's exit. API_CALL_LOG_FLUSH_MS=0: every call is stored as it is answered.

    Inside a transaction (a test's) the row joins it at once, as before. What a process holds is lost only if it
    dies without exiting (SIGKILL, a crash of the interpreter): at most its calls of the last API_CALL_LOG_FLUSH_MS."""

    def __init__(self):
        self._rows: list[ApiCall] = []
        self._lock = threading.Lock()
        self._waiting = threading.Event()
        self._thread_pid = None
        atexit.register(self.flush)

    def add(self, call: ApiCall) -> None:
        if settings.API_CALL_LOG_FLUSH_MS <= 0 or connection.in_atomic_block:
            _calls_store([call])
            return
        with self._lock:
            self._rows.append(call)
            full = len(self._rows) >= settings.API_CALL_LOG_BUFFER_ROWS
            if self._thread_pid != os.getpid():  # first call of this process (a forked worker starts its own)
                self._thread_pid = os.getpid()
                threading.Thread(target=self._run, name="api-call-log", daemon=True).start()
            self._waiting.set()
        if full:
            self.flush()

    def flush(self) -> None:
        """Store every waiting row now (one INSERT); a no-op when none waits."""
        with self._lock:
            rows, self._rows = self._rows, []
            self._waiting.clear()
        if rows:
            _calls_store(rows)

    def _run(self) -> None:
        while True:
            self._waiting.wait()
            time.sleep(settings.API_CALL_LOG_FLUSH_MS / 1000)
            try:
                connection.close_if_unusable_or_obsolete()  # this thread's own connection (they are per thread)
                self.flush()
            except Exception:  # the thread must outlive any one failure, or the log would stop
                logger.exception("The API call log thread could not store its rows")


call_log = CallLogBuffer()


def _calls_store(calls: list[ApiCall]) -> None:
    try:
        _calls_insert(calls)
    except DatabaseError:
        # The log must never turn an answered request into an error. One bad row (its partner deleted since)
        # must not take the others with it: they are stored one by one.
        logger.exception("Could not store %d API call log rows at once", len(calls))
        if len(calls) > 1:
            for call in calls:
                _calls_store([call])


def _calls_insert(calls: list[ApiCall]) -> None:
    """Insert the calls' rows without waiting for the disk (PostgreSQL), in one round trip.

    The row of a call that was answered is a log line, not a write the caller relies on: waiting for its WAL
    flush (and three more round trips of a transaction around `SET LOCAL`) was a quarter of a list call's time
    (issue 17). PostgreSQL runs the statements of one query string as one transaction, so `SET LOCAL` applies
    to this insert only. A crash of the database server may lose the last fraction of a second of log rows
    (at most three times `wal_writer_delay`); it can lose nothing else: every other write keeps
    `synchronous_commit` as configured. Inside a transaction (a test's) the rows join it as they are: `SET LOCAL`
    there would reach the whole transaction's other writes."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        ApiCall.objects.bulk_create(calls)
        return
    statement, fields = insert_statement(ApiCall, [field.column for field in ApiCall._meta.concrete_fields
                                                   if not field.primary_key])
    head, _sep, row = statement.partition(" VALUES ")
    values = []
    for call in calls:
        values += db_values(fields, [getattr(call, field.attname) for field in fields])
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL synchronous_commit TO OFF; {head} VALUES {', '.join([row] * len(calls))}", values)
