"""Segment rules compiled to one Customer QuerySet (SQL), from the fields every app contributes.

The compiler knows the JSON shape (rules.schema) and nothing of the apps behind the fields: each
field (core.rule_fields.RuleField, in `rule_field_registry`) brings its own condition builder and
the computed columns it needs. Every field maps to an indexed column, a comparison turned into bounds
on a column (age, days since...), or an EXISTS subquery; nothing is evaluated customer by customer.

A save validates and counts with ONE compile: `compile_rules()` returns a `Compiled` that
`customers_matching(compiled=...)` reuses.
"""

import copy
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.rules.schema import CONDITION_KEYS, MAX_CONDITIONS, MAX_DEPTH, checked_value, is_group
from core.rule_fields import OPERATORS, RuleError, RuleField, rule_field_registry
from crm.models import Customer


@dataclass
class Compiled:
    condition: Q
    fields: set[str]
    now: datetime | None = None
    rules: object = None  # what was compiled, so a caller can tell whether it still matches
    specs: list[RuleField] = field(default_factory=list)  # the fields used, in the order the rules name them


def validate(rules) -> None:
    """Raise RuleError when the rules are malformed; do nothing otherwise."""
    compile_rules(rules)


def compile_rules(rules, *, at: datetime | None = None) -> Compiled:
    """Validate and compile once; pass the result to customers_matching(compiled=...) to reuse it
    (a segment's save validates and counts with one compile)."""
    now = at or timezone.now()
    if not is_group(rules):
        raise RuleError(_('%(path)s: expected {"all": [...]} or {"any": [...]} at the top.'), code="not_a_rule_set",
                        params={"path": "rules"})
    walk = Walk(now=now)
    condition = walk.group(rules, "", depth=1)
    return Compiled(condition=condition, fields={spec.name for spec in walk.specs}, now=now,
                    rules=copy.deepcopy(rules), specs=walk.specs)


def customers_matching(rules, *, at: datetime | None = None, base: QuerySet | None = None,
                       compiled: Compiled | None = None) -> QuerySet[Customer]:
    """The customers a rule set selects, as one QuerySet (from `compiled` when given: no second compile)."""
    if compiled is None:
        compiled = compile_rules(rules, at=at)
    queryset = base if base is not None else Customer.objects.all()
    aliases = {}
    for spec in compiled.specs:
        if spec.aliases is not None:
            aliases.update(spec.aliases(compiled.now))
    return queryset.alias(**aliases).filter(compiled.condition)


def field_catalogue() -> list[dict]:
    """What the admin's rule builder offers: each field, its operators and its choices (labels are
    lazy: they render in the reader's language)."""
    return [
        {"name": spec.name, "label": spec.label, "kind": spec.kind, "operators": list(spec.operators),
         "choices": spec.choices() if spec.choices else None}
        for spec in rule_field_registry.values()
    ]


@dataclass
class Walk:
    """One pass over the rules: checks each node and builds its Q, counting the conditions."""

    now: datetime
    conditions: int = 0
    specs: list[RuleField] = field(default_factory=list)

    def group(self, node: dict, prefix: str, depth: int) -> Q:
        join = next(iter(node))
        items = node[join]
        path = f"{prefix}{join}"
        if depth > MAX_DEPTH:
            raise RuleError(_("%(path)s: groups may be nested at most %(limit)s deep."), code="too_deep",
                            params={"path": path, "limit": MAX_DEPTH})
        if not isinstance(items, list):
            raise RuleError(_("%(path)s: expected a list of conditions."), code="not_a_group",
                            params={"path": path})
        # An empty ALL selects everyone and an empty ANY too (a group being built in the admin).
        combined = Q() if join == "all" else Q(pk__in=[])
        if not items:
            return Q()
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]"
            if is_group(item):
                part = self.group(item, f"{item_path}.", depth + 1)
            else:
                part = self.condition(item, item_path)
            combined = combined & part if join == "all" else combined | part
        return combined

    def condition(self, item, path: str) -> Q:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise RuleError(_("%(path)s: at most %(limit)s conditions."), code="too_many_conditions",
                            params={"path": "rules", "limit": MAX_CONDITIONS})
        if not isinstance(item, dict):
            raise RuleError(_('%(path)s: expected a condition {"field": ..., "op": ..., "value": ...} or a group.'),
                            code="not_a_condition", params={"path": path})
        unknown_keys = set(item) - CONDITION_KEYS
        if unknown_keys:
            raise RuleError(_("%(path)s: unknown key %(keys)s."), code="unknown_key",
                            params={"path": path, "keys": ", ".join(sorted(map(repr, unknown_keys)))})
        name, op = item.get("field"), item.get("op")
        spec = rule_field_registry.get(name) if isinstance(name, str) else None
        if spec is None:
            raise RuleError(_("%(path)s: unknown field %(field)r; known fields: %(known)s."), code="unknown_field",
                            params={"path": f"{path}.field", "field": name, "known": ", ".join(rule_field_registry)})
        if op not in OPERATORS:
            raise RuleError(_("%(path)s: unknown operator %(op)r; operators: %(known)s."), code="unknown_operator",
                            params={"path": f"{path}.op", "op": op, "known": ", ".join(OPERATORS)})
        if op not in spec.operators:
            raise RuleError(_("%(path)s: the field %(field)r does not take %(op)r; it takes %(allowed)s."),
                            code="operator_not_allowed",
                            params={"path": f"{path}.op", "field": name, "op": op, "allowed": ", ".join(spec.operators)})
        value = checked_value(spec, op, item.get("value"), f"{path}.value", "value" in item)
        if all(used.name != spec.name for used in self.specs):
            self.specs.append(spec)
        try:
            return spec.build_q(spec, op, value, self.now)
        except (OverflowError, ValueError):  # a field without its own bound: still the rule's fault, not a 500
            raise RuleError(_("%(path)s: the value is out of the range this field can compare."), code="out_of_range",
                            params={"path": f"{path}.value"}) from None
