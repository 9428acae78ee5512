"""The fields a segment rule may name, contributed by the app that owns the data behind each.

A rule condition is `{"field": F, "op": OP, "value": V}` (campaigns compiles rules to one Customer
QuerySet). Each app declares its fields in its contributions module
(`rule_field_registry.register(field.name, RuleField(...))`), so the rule compiler needs to know no
other app's models: crm's customer and order figures, club's tier and points, feedback's NPS and open
returns, analytics' RFM and P(alive).

The contract lives here, below every app, so that each contributing app can build its conditions
(core.rule_lookups) and refuse a value (`RuleError`) without importing campaigns.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.registry import Registry

# Operator names the rules use.
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "between", "is_set", "is_not_set")
# What the rule builder shows for each operator, in the marketer's language (the rules keep the codes).
OPERATOR_LABELS = {
    "eq": _("is"),
    "ne": _("is not"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "contains": _("contains"),
    "between": _("is between"),
    "is_set": _("is known"),
    "is_not_set": _("is unknown"),
}
KINDS = ("text", "number", "date", "bool", "choice", "tags", "category_window")

# The usual operator sets of each kind (a field may offer fewer).
TEXT_OPS = ("eq", "ne", "in", "not_in", "contains", "is_set", "is_not_set")
NUMBER_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in", "is_set", "is_not_set")
DATE_OPS = ("eq", "lt", "lte", "gt", "gte", "between", "is_set", "is_not_set")
CHOICE_OPS = ("eq", "ne", "in", "not_in", "is_set", "is_not_set")
BOOL_OPS = ("eq", "ne")
TAGS_OPS = ("contains", "in", "not_in", "is_set", "is_not_set")


class RuleError(ValidationError):
    """A rule that cannot be compiled. Always raised with a translatable message, a `code` and
    `params` (at least `path`, where in the rules the problem is, e.g. `all[1].any[0].value`), so
    the admin shows it in the staff member's language and a program can read the code."""


@dataclass(frozen=True)
class RuleField:
    name: str  # what a rule writes in "field"
    label: Any  # shown to marketers: a lazily translated string
    kind: str  # one of KINDS: how the value is checked and which widget edits it
    operators: tuple[str, ...]
    # build_q(field, op, checked value, now) -> Q over Customer
    build_q: Callable[["RuleField", str, object, datetime], Q]
    choices: Callable[[], list[str]] | None = None  # for "choice" fields: the allowed values, read when needed
    help_text: Any = ""
    extra: dict = field(default_factory=dict)  # what build_q needs beyond the above (a column, a unit)
    # aliases(now) -> {name: expression}: computed columns build_q compares (an alias is named
    # `_rule_<field name>...` so two fields never collide); added to the QuerySet only when a rule uses the field.
    aliases: Callable[[datetime], Mapping[str, Any]] | None = None
    # check(value, path): refuses a value the kind accepts but the field does not (a probability above 1)
    # by raising RuleError; called for each single value once the kind has parsed it.
    check: Callable[[object, str], None] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Rule field {self.name!r}: unknown kind {self.kind!r}")
        unknown = set(self.operators) - set(OPERATORS)
        if unknown:
            raise ValueError(f"Rule field {self.name!r}: unknown operators {', '.join(sorted(unknown))}")


def rule_fields_register(*fields: RuleField) -> None:
    """Register each field under its name (an app's contributions module calls this once)."""
    for rule_field in fields:
        rule_field_registry.register(rule_field.name, rule_field)


# field name -> RuleField
rule_field_registry: Registry[RuleField] = Registry("segment rule fields")


# A count of days or years a rule compares is subtracted from today: beyond these the date would
# fall before year 1. A thousand years is far beyond any customer's history.
MAX_DAYS = 365_000
MAX_YEARS = 1_000


def at_most(limit: int) -> Callable[[object, str], None]:
    """A RuleField check: a count (days, years) of at most `limit` either way."""

    def check(value, path: str) -> None:
        if abs(value) > limit:
            raise RuleError(_("%(path)s: %(value)s is out of range; the largest this field takes is %(limit)s."),
                            code="out_of_range", params={"path": path, "value": value, "limit": limit})

    return check
