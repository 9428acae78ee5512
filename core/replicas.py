"""Reports read from a streaming replica, when one is configured (`DATABASE_REPLICA_URL`).

Only code that says so reads from the replica: the analytics recomputes, the dashboard and segment pages, and the
report commands run inside `replica_reads()` (a context manager and decorator). Everything else, and every write,
goes to the primary. Inside a transaction on the primary the reads stay there too, because they may have to see
that transaction's own writes.

A replica that cannot be reached, or that is further behind than `DATABASE_REPLICA_MAX_LAG_SECONDS`, is not used:
the reads fall back to the primary, and the verdict is kept for `DATABASE_REPLICA_CHECK_SECONDS` so a report of
many queries asks once. A report that has started on the replica stays there (a failure in mid-report raises, as a
primary failing would).
"""

import logging
import time
from contextlib import ContextDecorator
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

log = logging.getLogger(__name__)

REPLICA = "replica"

_reading = ContextVar("replica_reads", default=False)
_verdict: dict[str, tuple[float, bool]] = {}  # alias -> (checked at, usable); per process

# Seconds the replica is behind: 0 when it has replayed all it has received (an idle primary sends nothing, so the
# time since the last replayed transaction would read as lag), NULL when the server is not a standby at all.
LAG_SQL = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN NULL
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
    END
"""


class replica_reads(ContextDecorator):
    """Reads inside this block (or the decorated function) may be served by the replica."""

    def __enter__(self):
        self._token = _reading.set(True)
        return self

    def __exit__(self, *exc_info):
        _reading.reset(self._token)
        return False


def replica_page(view):
    """A report page: its reads may come from the replica, including those made while its TemplateResponse renders
    (after the view has returned)."""

    @wraps(view)
    def page(*args, **kwargs):
        with replica_reads():
            response = view(*args, **kwargs)
            if not getattr(response, "is_rendered", True):
                response.render()
            return response

    return page


def replica_configured() -> bool:
    return REPLICA in connections  # the configured aliases (settings.DATABASES)


def read_alias() -> str:
    """The database a read should use here and now."""
    if not _reading.get() or not replica_configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA if replica_usable() else DEFAULT_DB_ALIAS


def replica_usable() -> bool:
    """Whether the replica answers and is within the allowed lag (checked at most every DATABASE_REPLICA_CHECK_SECONDS)."""
    checked_at, usable = _verdict.get(REPLICA, (float("-inf"), False))
    if time.monotonic() - checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS:
        return usable
    usable = _check()
    _verdict[REPLICA] = (time.monotonic(), usable)
    return usable


def replica_verdict_forget() -> None:
    """Check the replica again at the next read (after its settings changed, or in tests)."""
    _verdict.clear()


def _check() -> bool:
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            lag = cursor.fetchone()[0]
    except DatabaseError as error:
        log.warning("The read replica is unreachable; reports read from the primary: %s", error)
        connection.close()
        return False
    if lag is None:
        log.warning("DATABASE_REPLICA_URL points to a server that is not a standby; reports read from the primary")
        return False
    if lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
        log.warning("The read replica is %.1f s behind (more than %s); reports read from the primary",
                    lag, settings.DATABASE_REPLICA_MAX_LAG_SECONDS)
        return False
    return True


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads inside replica_reads() go to the replica when it is usable; writes, migrations
    and everything else go to the primary."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
