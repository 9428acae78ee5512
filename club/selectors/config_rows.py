"""The club's few configuration rows that every order reads: the earning rules of purchases and referrals,
and the tiers.

A till sends an order every few seconds and each one needs the rules in force and the tier ladder: a handful
of rows that change when a manager edits them. They are remembered in Django's cache (core.remembered; shared
by every process when CACHE_URL is set) for CLUB_CONFIG_CACHE_SECONDS (5; 0 reads them every time). Saving or deleting a rule or
a tier forgets them at once and again at its commit (club.receivers), so with a shared cache an edit counts
from the next order everywhere, and with the per-process default within CLUB_CONFIG_CACHE_SECONDS in the other
processes. The rules' own dates (starts_at, ends_at) are checked against each order as before.
"""

from django.conf import settings

from club.models import EarningRule, Tier
from core.remembered import forget, remembered

_RULES_KEY = "club.config.order_rules"
_TIERS_KEY = "club.config.tiers"


def order_rules() -> list[EarningRule]:
    """The enabled purchase and referral rules, newest first."""
    return remembered(_RULES_KEY, settings.CLUB_CONFIG_CACHE_SECONDS, lambda: list(
        EarningRule.objects.filter(kind__in=[EarningRule.Kind.PURCHASE, EarningRule.Kind.REFERRAL], enabled=True)
        .order_by("-created_at", "-pk")))


def tiers_highest_first() -> list[Tier]:
    return remembered(_TIERS_KEY, settings.CLUB_CONFIG_CACHE_SECONDS, lambda: list(Tier.objects.order_by("-rank")))


def config_rows_forget(**kwargs) -> None:
    forget(_RULES_KEY, _TIERS_KEY)
