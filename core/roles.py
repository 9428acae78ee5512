"""Staff roles as Django groups, kept in step with the code after every migrate.

Each app declares what the roles may do on its models in its contributions module
(`role_registry.register(key, RoleGrant(...))`), so core never imports the apps above it.
After `migrate`, each group gets exactly the declared permissions: a permission removed from the
code is removed from the group too.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from core.registry import Registry

SUPPORT = "Support"
MARKETING = "Marketing"
CLUB_MANAGERS = "Club managers"
ROLES = (SUPPORT, MARKETING, CLUB_MANAGERS)

@dataclass(frozen=True)
class RoleGrant:
    """What `role` may do on the models of `app_label`: `models` maps a model name to the actions
    ("view", "add", "change", "delete") or full codenames ("adjust_points") the role has on it.
    An empty mapping says, visibly, that the role gets nothing there."""

    role: str
    app_label: str
    models: Mapping[str, tuple[str, ...]]

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"Unknown role {self.role!r}")

    def permissions(self) -> set[str]:
        """The grant as "app_label.codename" strings."""
        return {
            f"{self.app_label}.{action if '_' in action else f'{action}_{model}'}"
            for model, actions in self.models.items()
            for action in actions
        }


# Any unique key ("club.club_managers") -> RoleGrant; an app may grant on another app's models.
role_registry: Registry[RoleGrant] = Registry("role grants")


def declared_permissions(role: str) -> set[str]:
    """Every "app_label.codename" the contributions grant to `role`."""
    return {perm for grant in role_registry.values() if grant.role == role for perm in grant.permissions()}


def sync_role_groups(sender=None, using="default", **kwargs) -> None:
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = declared_permissions(role)
        condition = Q(pk__in=[])
        for perm in wanted:
            app_label, codename = perm.split(".", 1)
            condition |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.using(using).filter(condition))
        group.permissions.set(permissions)
