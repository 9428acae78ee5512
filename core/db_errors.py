"""Whose fault a database error is, decided once for the API, the public pages and the imports.

Only trouble reaching the database (a lost connection, a failover, a lock timeout) is worth
retrying: the same request may succeed a moment later. A value the database refuses
(DataError: a number out of range, text too long) or a broken constraint (IntegrityError)
fails the same way on every retry, so calling it "unavailable, retry later" makes a partner
retry forever. Anything else (a bad query, a missing table) is a bug on our side.
"""

from django.db import DataError, IntegrityError, InterfaceError, OperationalError

UNAVAILABLE = "unavailable"  # retry later: 503 with Retry-After
BAD_VALUE = "bad_value"  # the request holds a value the database cannot store: 400
CONFLICT = "conflict"  # the request breaks a constraint of the stored data: 409
BUG = "bug"  # our fault: 500, logged with its traceback


def classify(exc: BaseException) -> str:
    if isinstance(exc, DataError):
        return BAD_VALUE
    if isinstance(exc, IntegrityError):
        return CONFLICT
    if isinstance(exc, (OperationalError, InterfaceError)):
        return UNAVAILABLE
    return BUG


def constraint_name(exc: BaseException) -> str:
    """The constraint a PostgreSQL IntegrityError names (psycopg's diagnostics), or ""."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


def refused_value(exc: BaseException) -> str:
    """The database's own words for a refused value ("numeric field overflow", "value too long
    for type character varying(64)"), first line only: no SQL, no parameters."""
    diag = getattr(exc.__cause__, "diag", None)
    text = getattr(diag, "message_primary", None) or str(exc)
    return text.splitlines()[0][:200] if text else ""
