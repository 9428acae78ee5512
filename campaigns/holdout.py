"""The holdout draw: which customers of a campaign's (or automation's) audience receive nothing.

A customer is held out when the first 8 bytes of SHA-256("<seed>:<customer id>"), read as an
unsigned integer, fall in the lowest `percent`% of the range. The seed is stored on the campaign
or automation (`secrets.token_hex()`, random when it is created, never edited), so anyone can re-run the draw for a
customer and get the same answer: the draw is reproducible and auditable, independent between
campaigns (each has its own seed) and unrelated to ids, names or order dates. Each customer is
held out with probability `percent`/100; the share of a large audience is close to it.
"""

import hashlib

from django.db.models import BooleanField, CharField, Func, Value
from django.db.models.functions import Cast, Concat
from django.db.models.lookups import LessThan

DEFAULT_PERCENT = 10
MAX_PERCENT = 50
_RANGE = 2 ** 64


def draw_value(seed: str, customer_id: int) -> float:
    """A number in [0, 1) that depends only on the seed and the customer."""
    digest = hashlib.sha256(f"{seed}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _RANGE


def is_held_out(seed: str, customer_id: int, percent: int) -> bool:
    """True when this customer is in the holdout of a draw with this seed and share (0-50%)."""
    if not percent:
        return False
    return draw_value(seed, customer_id) < percent / 100


# --- the same draw in SQL ------------------------------------------------------------------------
# The send and its confirmation page count the holdout in the statement that reads the audience,
# so the figure shown before "Send now" is the draw itself, not an estimate, at any audience size.

def threshold(percent: int) -> int:
    """The smallest 64-bit value that is not held out at this share: `is_held_out` is exactly
    "the first 8 bytes, as an integer, are below it" (found by bisection over the very same
    float comparison, so the SQL and the Python draw agree to the last value)."""
    share = percent / 100
    low, high = 0, _RANGE
    while low < high:
        middle = (low + high) // 2
        if middle / _RANGE < share:
            low = middle + 1
        else:
            high = middle
    return low


class _DrawPrefix(Func):
    """The first 8 bytes of SHA-256(text) as 16 lowercase hex digits; compared as bytes ("C"), so a
    string comparison is the comparison of the numbers."""

    output_field = CharField()
    template = "SUBSTR(SHA256(%(expressions)s), 1, 16)"  # SQLite: Django registers SHA256 (hexdigest)

    def as_postgresql(self, compiler, connection, **extra_context):
        # Django's SHA256 needs pgcrypto's DIGEST; sha256(bytea) is built in since PostgreSQL 11.
        return self.as_sql(compiler, connection, template=(
            "(SUBSTR(ENCODE(SHA256(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex'), 1, 16) COLLATE \"C\")"),
            **extra_context)


def held_out_expression(seed: str, percent: int, *, customer_id: str = "pk"):
    """A boolean SQL expression: `is_held_out(seed, <customer_id field>, percent)`, row by row."""
    if not percent:
        return Value(False, output_field=BooleanField())
    text = Concat(Value(f"{seed}:"), Cast(customer_id, output_field=CharField()), output_field=CharField())
    return LessThan(_DrawPrefix(text), Value(format(threshold(percent), "016x"), output_field=CharField()))
