"""Staff roles as Django groups, kept in step with the code after every migrate.

Each app declares what its roles may do on its own models (`register_role_permissions`
in its AppConfig.ready), so crm never imports the apps above it. After `migrate`,
each group gets exactly the declared permissions: a permission removed from the code is
removed from the group too.
"""

from collections import defaultdict

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

SUPPORT = "Support"
MARKETING = "Marketing"
CLUB_MANAGERS = "Club managers"
ROLES = (SUPPORT, MARKETING, CLUB_MANAGERS)

# role -> {"app_label.codename", ...}
_declared: dict[str, set[str]] = defaultdict(set)


def register_role_permissions(role: str, app_label: str, grants: dict[str, tuple[str, ...]]) -> None:
    """grants maps a model name to the actions ("view", "add", "change", "delete")
    or full codenames ("adjust_points") the role has on it."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}")
    for model, actions in grants.items():
        for action in actions:
            codename = action if "_" in action else f"{action}_{model}"
            _declared[role].add(f"{app_label}.{codename}")


def declared_permissions(role: str) -> set[str]:
    return set(_declared[role])


def sync_role_groups(sender=None, using="default", **kwargs) -> None:
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = _declared[role]
        condition = Q(pk__in=[])
        for perm in wanted:
            app_label, codename = perm.split(".", 1)
            condition |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.using(using).filter(condition))
        group.permissions.set(permissions)


# crm's own models. In the admin, "change" on an order means cancelling or refunding it
# (the order form itself is read-only: orders come from imports and the API), and the
# consent history is read-only: consent changes when a customer's form is saved.
register_role_permissions(SUPPORT, "crm", {
    "customer": ("view", "add", "change"),
    "interaction": ("view", "add", "change"),
    "order": ("view", "change"),
    "orderline": ("view",),
    "product": ("view",),
    "consentchange": ("view",),
    "tag": ("view",),
})
register_role_permissions(MARKETING, "crm", {
    "customer": ("view", "change", "import_customers"),
    "interaction": ("view",),
    "order": ("view", "import_orders"),
    "orderline": ("view",),
    "product": ("view", "add", "change"),
    "consentchange": ("view",),
    "tag": ("view", "add", "change"),
})
register_role_permissions(CLUB_MANAGERS, "crm", {
    "customer": ("view",),
    "interaction": ("view",),
    "order": ("view",),
    "orderline": ("view",),
    "product": ("view",),
    "consentchange": ("view",),
    "tag": ("view",),
})
