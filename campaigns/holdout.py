"""The holdout draw: which customers of a campaign's (or automation's) audience receive nothing.

A customer is held out when the first 8 bytes of SHA-256("<seed>:<customer id>"), read as an
unsigned integer, fall in the lowest `percent`% of the range. The seed is stored on the campaign
or automation (`secrets.token_hex()`, random when it is created, never edited), so anyone can re-run the draw for a
customer and get the same answer: the draw is reproducible and auditable, independent between
campaigns (each has its own seed) and unrelated to ids, names or order dates. Each customer is
held out with probability `percent`/100; the share of a large audience is close to it.
"""

import hashlib

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
