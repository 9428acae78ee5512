"""Who looked at a customer's personal data (CustomerAccess): recorded, shown and exported.

The audit of changes (who changed what, from where) is the platform's: core.audit."""

from core.audit import username


def access_log(*, customer, action: str, by=None, source: str) -> None:
    """Record that staff (or a command) viewed or exported the customer's data: who, when, what."""
    from crm.models import CustomerAccess

    CustomerAccess.objects.create(customer=customer, user=by if getattr(by, "pk", None) else None,
                                  action=action, source=source[:50])


def recent_accesses(customer, *, limit: int = 10):
    return list(customer.accesses.select_related("user").order_by("-at", "-id")[:limit])


def access_export(customer) -> list[dict]:
    return [
        {"at": access.at, "action": access.action, "by": username(access.user), "source": access.source}
        for access in customer.accesses.select_related("user").order_by("at", "id")
    ]
