"""Whose fault an error is, decided once for the API, the admin and the public pages, and the
request id that ties a 500 shown to someone to its line in the log.

The classes (each answer's rendering stays in its app: the API's problem details in
api.exceptions, the HTML pages in core.error_pages):
- BAD_VALUE (400) and TOO_LARGE (413): the caller's data; the same request fails the same way;
- CONFLICT (409): the request breaks a rule of the stored data;
- UNAVAILABLE (503 with Retry-After): the database or the broker could not be reached; the same
  request may succeed a moment later, and only this class says "retry";
- BUG (500): ours; logged with its traceback and the request id, which the answer shows.
A database error is classified by core.db_errors (a refused value, a broken constraint, a lost
connection).
"""

import contextvars
import logging
import re
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.db import DatabaseError, InterfaceError

from core import db_errors

BAD_VALUE = db_errors.BAD_VALUE
CONFLICT = db_errors.CONFLICT
UNAVAILABLE = db_errors.UNAVAILABLE
BUG = db_errors.BUG
TOO_LARGE = "too_large"

STATUS = {BAD_VALUE: 400, TOO_LARGE: 413, CONFLICT: 409, UNAVAILABLE: 503, BUG: 500}


def retry_after_seconds() -> int:
    """Retry-After of every 503 for an unreachable database or broker (settings.RETRY_AFTER_SECONDS)."""
    return settings.RETRY_AFTER_SECONDS

REQUEST_ID_HEADER = "X-Request-ID"
_request_id = contextvars.ContextVar("request_id", default="")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def classify(exc: BaseException | None) -> str:
    if isinstance(exc, RequestDataTooBig):
        return TOO_LARGE
    if isinstance(exc, (DatabaseError, InterfaceError)):
        return db_errors.classify(exc)
    if isinstance(exc, (ValidationError, SuspiciousOperation)):
        return BAD_VALUE
    if _is_broker_unreachable(exc):
        return UNAVAILABLE
    return BUG


def status_of(exc: BaseException | None) -> int:
    return STATUS[classify(exc)]


def _is_broker_unreachable(exc) -> bool:
    """kombu's connection errors (the broker, for a task queued by a request) and plain socket
    trouble; imported lazily so that core does not need Celery to classify."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    try:
        from kombu.exceptions import OperationalError as BrokerError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, BrokerError)


def request_id() -> str:
    """The id of the request being answered ("" outside a request)."""
    return _request_id.get()


def begin_request(header_value: str | None) -> contextvars.Token:
    """The request's id: the caller's X-Request-ID when it is a plain token (a load balancer's),
    else a new one. Anything else in the header is not trusted into the log."""
    value = header_value if header_value and _SAFE_ID.match(header_value) else uuid.uuid4().hex
    return _request_id.set(value)


def end_request(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Adds %(request_id)s to every log record ("-" outside a request)."""

    def filter(self, record):
        record.request_id = _request_id.get() or "-"
        return True
