"""Hooks of the customer queryset (crm.querysets) that the apps above crm fill.

- a *search extension* `lookup(term) -> Q | None` adds an indexed branch to the customer search
  (the club's member numbers); None when the term cannot be one of its identifiers;
- a *loyalty condition* `condition() -> Q` over Customer says what makes an active repeat customer
  "loyal" in the lifecycle stage (the club's top tiers, the analytics' top RFM segments); the
  conditions are OR-ed.

Declared in each app's contributions module; crm never imports those apps.
"""

from collections.abc import Callable

from django.db.models import Q

from core.registry import Registry

SearchExtension = Callable[[str], Q | None]
LoyaltyCondition = Callable[[], Q]

# name -> lookup(term)
search_extension_registry: Registry[SearchExtension] = Registry("customer search extensions")
# name -> condition()
loyalty_condition_registry: Registry[LoyaltyCondition] = Registry("loyalty conditions")


def loyalty_q() -> Q | None:
    """Every contributed loyalty condition OR-ed, or None when there is none."""
    if not loyalty_condition_registry:
        return None
    combined = Q()
    for condition in loyalty_condition_registry.values():
        combined |= condition()
    return combined
