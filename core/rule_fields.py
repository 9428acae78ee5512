"""The fields a segment rule may name, contributed by the app that owns the data behind each.

A rule condition is `{"field": F, "op": OP, "value": V}` (campaigns compiles rules to one Customer
QuerySet). Each app declares its fields in its contributions module
(`rule_field_registry.register(field.name, RuleField(...))`), so the rule compiler needs to know no
other app's models: club's tier and points, feedback's NPS and open returns, analytics' RFM and P(alive).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q

from core.registry import Registry

# Operator names the rules use.
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "between", "is_set", "is_not_set")
KINDS = ("text", "number", "date", "bool", "choice", "tags", "category_window")


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

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Rule field {self.name!r}: unknown kind {self.kind!r}")
        unknown = set(self.operators) - set(OPERATORS)
        if unknown:
            raise ValueError(f"Rule field {self.name!r}: unknown operators {', '.join(sorted(unknown))}")


# field name -> RuleField
rule_field_registry: Registry[RuleField] = Registry("segment rule fields")
