"""The JSON shape of segment rules and the checking of a condition's value by the field's kind.

{"all": [cond, {"any": [cond, ...]}, ...]} (or "any" at the top), where
cond = {"field": F, "op": OP, "value": V}. A value arrives as JSON; it leaves as what the field's
builder compares (a Decimal, a date, a (low, high) pair, a list). Every refusal is a RuleError
with a code, the path of the value (`all[1].any[0].value`) and the offending value as params.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from core.rule_fields import MAX_DAYS, RuleError, RuleField

JOINS = ("all", "any")
CONDITION_KEYS = {"field", "op", "value"}
MAX_DEPTH = 5
MAX_CONDITIONS = 50
MAX_TEXT = 200
MAX_LIST = 500
# Far beyond any count or amount, and small enough that SQLite and PostgreSQL compare it exactly.
MAX_NUMBER = Decimal("1e12")
# A date a rule compares, with a day to spare either side (a rule adds a day to the date it reads).
FIRST_DAY, LAST_DAY = date(1000, 1, 1), date(9998, 12, 31)


def is_group(node) -> bool:
    return isinstance(node, dict) and len(node) == 1 and next(iter(node)) in JOINS


def checked_value(spec: RuleField, op: str, value, path: str, present: bool):
    """The value of a condition on `spec` with `op`, checked and converted for its builder."""
    if op in ("is_set", "is_not_set"):
        return None
    if not present:
        raise RuleError(_("%(path)s: the operator %(op)r needs a value."), code="value_missing",
                        params={"path": path, "op": op})
    if spec.kind == "category_window":
        return category_window(value, path)
    item = item_checker(spec)
    if op == "between":
        return pair(value, path, item)
    if op in ("in", "not_in"):
        return items(value, path, item)
    return item(value, path)


def item_checker(spec: RuleField) -> Callable:
    """Checks one value of the field's kind, then the field's own check (a probability's range)."""
    parse = {
        "text": text, "number": number, "date": day, "bool": boolean, "tags": text,
        "choice": choice(spec.choices) if spec.choices else text,
    }[spec.kind]
    if spec.check is None:
        return parse

    def checked(value, path: str):
        parsed = parse(value, path)
        spec.check(parsed, path)
        return parsed

    return checked


def number(value, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RuleError(_("%(path)s: expected a number, got %(value)r."), code="not_a_number",
                        params={"path": path, "value": value})
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise RuleError(_("%(path)s: expected a number, got %(value)r."), code="not_a_number",
                        params={"path": path, "value": value}) from None
    if not parsed.is_finite() or abs(parsed) > MAX_NUMBER:
        raise RuleError(_("%(path)s: %(value)r is not a usable number."), code="unusable_number",
                        params={"path": path, "value": value})
    return parsed


def day(value, path: str) -> date:
    if isinstance(value, str):
        try:
            parsed = parse_date(value) or (parse_datetime(value).date() if parse_datetime(value) else None)
        except ValueError:  # a date shaped but impossible: 2024-02-30, an offset of 99 hours
            parsed = None
        if parsed and not FIRST_DAY <= parsed <= LAST_DAY:
            raise RuleError(_("%(path)s: %(value)s is outside the dates a rule compares (%(first)s to %(last)s)."),
                            code="date_out_of_range",
                            params={"path": path, "value": value, "first": FIRST_DAY, "last": LAST_DAY})
        if parsed:
            return parsed
    raise RuleError(_("%(path)s: expected a date as YYYY-MM-DD, got %(value)r."), code="not_a_date",
                    params={"path": path, "value": value})


def text(value, path: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise RuleError(_("%(path)s: expected a non-empty text of at most %(limit)s characters, got %(value)r."),
                        code="not_a_text", params={"path": path, "value": value, "limit": MAX_TEXT})
    if "\x00" in value:  # PostgreSQL's text cannot hold it: refused here, not by the database
        raise RuleError(_("%(path)s: the text holds a NUL character, which no stored text can match."),
                        code="nul_character", params={"path": path})
    return value.strip()


def boolean(value, path: str) -> bool:
    if not isinstance(value, bool):
        raise RuleError(_("%(path)s: expected true or false, got %(value)r."), code="not_a_bool",
                        params={"path": path, "value": value})
    return value


def choice(allowed_values: Callable[[], list[str]]) -> Callable:
    """One of the field's choices, in any case; returns the choice as the field spells it."""

    def check(value, path: str) -> str:
        allowed = allowed_values()
        if isinstance(value, str):
            matches = [option for option in allowed if option.lower() == value.strip().lower()]
            if matches:
                return matches[0]
        raise RuleError(_("%(path)s: %(value)r is not one of %(choices)s."), code="not_a_choice",
                        params={"path": path, "value": value, "choices": ", ".join(allowed)})

    return check


def items(value, path: str, item: Callable) -> list:
    if not isinstance(value, list) or not value or len(value) > MAX_LIST:
        raise RuleError(_("%(path)s: expected a non-empty list (at most %(limit)s items), got %(value)r."),
                        code="not_a_list", params={"path": path, "value": value, "limit": MAX_LIST})
    return [item(element, f"{path}[{index}]") for index, element in enumerate(value)]


def pair(value, path: str, item: Callable) -> tuple:
    if not isinstance(value, list) or len(value) != 2:
        raise RuleError(_("%(path)s: 'between' takes a list of two values [low, high], got %(value)r."),
                        code="not_a_pair", params={"path": path, "value": value})
    low, high = item(value[0], f"{path}[0]"), item(value[1], f"{path}[1]")
    if low > high:
        raise RuleError(_("%(path)s: the low value %(low)r is above the high value %(high)r."), code="low_above_high",
                        params={"path": path, "low": value[0], "high": value[1]})
    return low, high


def category_window(value, path: str) -> dict:
    """{"category": "...", "days": N}: bought in that category within the last N days."""
    if not isinstance(value, dict) or set(value) != {"category", "days"}:
        raise RuleError(_('%(path)s: expected {"category": "...", "days": N}, got %(value)r.'),
                        code="not_a_category_window", params={"path": path, "value": value})
    days = number(value["days"], f"{path}.days")
    if days < 1 or days != int(days) or days > MAX_DAYS:
        raise RuleError(_("%(path)s: expected a whole number of days from 1 to %(limit)s, got %(value)r."),
                        code="not_whole_days", params={"path": f"{path}.days", "value": value["days"], "limit": MAX_DAYS})
    return {"category": text(value["category"], f"{path}.category"), "days": int(days)}
