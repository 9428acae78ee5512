"""Segment rules: JSON that marketers build, compiled to one Customer QuerySet (SQL).

`schema` holds the JSON shape and the checking of values, `compiler` the walk from rules to a Q.
The fields come from every app through core.rule_fields (each app's contributions module), so
this package imports no other app's code but crm's Customer, the model a segment selects.

A rule that names an unknown field or operator, or a value of the wrong type, raises `RuleError`
(a ValidationError with a code and params) whose message says where (e.g. `all[1].any[0].value`)
and what is wrong, in the active language.
"""

from campaigns.rules.compiler import Compiled, compile_rules, customers_matching, field_catalogue, validate
from campaigns.rules.schema import MAX_CONDITIONS, MAX_DEPTH
from core.rule_fields import OPERATORS, RuleError

__all__ = [
    "MAX_CONDITIONS", "MAX_DEPTH", "OPERATORS", "Compiled", "RuleError", "compile_rules", "customers_matching",
    "field_catalogue", "validate",
]
