"""Checking one row of an order import: the order-level cells and the line cells, in
Python and per cell, before anything reaches the database; and the public ids of the new
rows."""

import os
import time
from decimal import Decimal

from django.utils.translation import gettext as _

from crm.importing.common import check_length, parse_datetime, parse_money, parse_quantity
from crm.services.order_input import BadValue, clean_channel, clean_currency, clean_status

ORDER_COLUMNS = ("order_number", "customer_ref", "placed_at", "status", "channel", "currency", "total")
LINE_COLUMNS = ("sku", "product_name", "category", "quantity", "unit_price")
REQUIRED_COLUMNS = ("order_number", "customer_ref", "placed_at", "total")
# The columns every row of an order must agree on, in the order they are reported.
ORDER_LEVEL = ("customer_ref", "placed_at", "status", "channel", "currency", "total")

_MAX_REF = 254  # the longest key a customer_ref can match: an email


class BadRow(ValueError):
    pass


def order_values(raw: tuple[str, ...], names: tuple[str, ...], tz) -> tuple:
    """The order-level cells of a row, checked and normalised:
    (customer_ref, placed_at, status, channel, currency, total)."""
    cells = dict(zip(names, raw))
    reasons = []
    ref = cells["customer_ref"].strip()
    if not ref:
        reasons.append(_("customer_ref is required"))
    elif len(ref) > _MAX_REF:
        reasons.append(_("customer_ref is longer than %(limit)s characters") % {"limit": _MAX_REF})
    placed_at = cells["placed_at"].strip()
    if not placed_at:
        reasons.append(_("placed_at is required"))
    else:
        try:
            placed_at = parse_datetime(placed_at, "placed_at", tz)
        except ValueError as exc:
            reasons.append(str(exc))
    # The one check of an order's values (crm.services.order_input), as the API applies it.
    checked = {}
    for name, cleaner in (("status", clean_status), ("channel", clean_channel), ("currency", clean_currency)):
        try:
            checked[name] = cleaner(cells.get(name, ""))
        except BadValue as exc:
            reasons.append(str(exc))
    total = cells["total"].strip()
    if not total:
        reasons.append(_("total is required"))
    else:
        try:
            total = Decimal(parse_money(total, "total"))
        except ValueError as exc:
            reasons.append(str(exc))
    if reasons:
        raise BadRow("; ".join(reasons))
    return ref, placed_at, checked["status"], checked["channel"], checked["currency"], total


def line_values_checked(sku: str, name: str, category: str, quantity: str, price: str) -> tuple:
    """(sku, product_name, category, quantity, unit_price) of a row with a line; the slow
    path of the reading loop, which says what is wrong."""
    reasons = []
    if not (sku or name):
        reasons.append(_("a line needs a sku or a product_name"))
    for column, value, limit in (("sku", sku, 64), ("product_name", name, 200), ("category", category, 100)):
        try:
            check_length(value, column, limit)
        except ValueError as exc:
            reasons.append(str(exc))
    if quantity:
        try:
            quantity = parse_quantity(quantity, "quantity")
        except ValueError as exc:
            reasons.append(str(exc))
    else:
        quantity = 1
    if not price:
        reasons.append(_("unit_price is required for a line"))
    else:
        try:
            price = parse_money(price, "unit_price")
        except ValueError as exc:
            reasons.append(str(exc))
    if reasons:
        raise BadRow("; ".join(reasons))
    return sku or None, name or None, category or None, quantity, price


class PublicIds:
    """Public ids for the new rows: UUIDv7 (RFC 9562) as 32 hex digits.

    Time-ordered ids land at the end of the unique index instead of all over it, which
    makes a million inserts markedly faster; 74 of their bits come from os.urandom, so
    they are as hard to guess as the uuid4 the models default to. Generating them here,
    from one os.urandom() call per 4096 ids, is also cheaper than gen_random_uuid()."""

    _BATCH = 4096
    _VARIANT = {digit: "89ab"[int(digit, 16) % 4] for digit in "0123456789abcdef"}

    def __init__(self):
        self._refill()

    def _refill(self) -> None:
        self._hex = os.urandom(16 * self._BATCH).hex()
        self._at = 0
        self._prefix = f"{time.time_ns() // 1_000_000:012x}7"

    def next(self) -> str:
        at = self._at
        if at == len(self._hex):
            self._refill()
            at = 0
        self._at = at + 32
        hex_ = self._hex
        return self._prefix + hex_[at:at + 3] + self._VARIANT[hex_[at + 3]] + hex_[at + 4:at + 19]


def differs_message(number: str, first_line: int, names: list[str]) -> str:
    return _('order "%(number)s" differs from line %(first)s in %(columns)s') % {
        "number": number, "first": first_line, "columns": ", ".join(names),
    }
