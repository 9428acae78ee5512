"""Privacy: one export of everything held about a customer, and one erasure, made of every app's part.

core knows no customer model, so each app contributes in its contributions module
- an *exporter* `exporter(customer) -> JSON-able value`, which becomes one section of the export
  (`exporter_registry.register(section, exporter)`; sections in registration order, crm's first);
- an *eraser* `eraser(customer, *, by) -> None` (`eraser_registry.register(name, eraser)`), run inside
  the erasure's transaction. Erasers run in the reverse order of registration, the apps above first,
  while the customer still has their email and phone (so campaigns can hash them into the suppression
  list); crm's own eraser, which blanks the profile, runs last.

The erasure itself (the lock, "already erased", the event row) is crm's service, `crm.privacy.customer_erase`.
"""

import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from core.registry import Registry

EXPORT_FORMAT = "clubcrm.customer-export/1"
# What erasure writes over free text it cannot blank (a subject, a note).
ERASED_TEXT = "[erased]"

Exporter = Callable[[Any], Any]
Eraser = Callable[..., None]
# section name -> exporter(customer)
exporter_registry: Registry[Exporter] = Registry("privacy exporters")
# name -> eraser(customer, *, by)
eraser_registry: Registry[Eraser] = Registry("privacy erasers")


def registered_sections() -> list[str]:
    return list(exporter_registry)


def privacy_export(customer) -> dict:
    """One JSON-serialisable document of everything held about the customer: every contributed section."""
    document: dict[str, Any] = {"format": EXPORT_FORMAT, "exported_at": timezone.now()}
    for section, exporter in exporter_registry.items():
        document[section] = exporter(customer)
    # One round trip through JSON: dates, decimals and UUIDs become strings, whatever an exporter returned.
    return json.loads(json.dumps(document, cls=ExportEncoder))


def privacy_erase(customer, *, by=None) -> None:
    """Run every contributed eraser, the apps above first (see the module's docstring).

    Call it inside the caller's transaction: a failing eraser rolls back the whole erasure."""
    for eraser in reversed(list(eraser_registry.values())):
        eraser(customer, by=by)


class ExportEncoder(DjangoJSONEncoder):
    def default(self, o):
        # PhoneNumber and other value objects: their string form (E.164 for phones).
        if hasattr(o, "as_e164"):
            return o.as_e164
        return super().default(o)
