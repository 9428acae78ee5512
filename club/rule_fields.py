"""The segment rule fields the club contributes (core.rule_fields): membership, tier, points and
how long ago the customer joined. Registered by club/contributions.py."""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from club.models import Membership, Tier
from core.rule_fields import BOOL_OPS, CHOICE_OPS, MAX_DAYS, NUMBER_OPS, RuleField, at_most
from core.rule_lookups import column_comparison, days_since, exists_flag


def active_membership() -> Exists:
    return Exists(Membership.objects.filter(customer_id=OuterRef("pk"), status=Membership.Status.ACTIVE))


def tier_names() -> list[str]:
    return list(Tier.objects.order_by("rank").values_list("name", flat=True))


FIELDS = (
    RuleField("is_member", _("Club member"), "bool", BOOL_OPS, exists_flag(active_membership)),
    RuleField("tier", _("Club tier"), "choice", CHOICE_OPS, column_comparison("membership__tier__name"),
              choices=tier_names),
    RuleField("points_balance", _("Points balance"), "number", NUMBER_OPS,
              column_comparison("membership__points_balance")),
    RuleField("joined_days_ago", _("Days since joining the club"), "number", NUMBER_OPS,
              days_since("membership__joined_at"), check=at_most(MAX_DAYS)),
)
